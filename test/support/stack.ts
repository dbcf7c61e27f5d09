/**
 * Starts the real stack (edge in workerd + relay on loopback, ports chosen by the OS) in a
 * fresh temporary data folder, and removes it afterwards.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStack, type StackOptions } from "../../local/stack.ts";

export async function startTestStack(options: Partial<StackOptions> = {}): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "edgemail-test-"));
  const stack = new LocalStack({ dataDir, edgeTimeoutMs: 5_000, ...options }) as LocalStack & { cleanup(): Promise<void> };
  stack.cleanup = async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await stack.start();
  } catch (err) {
    await stack.cleanup();
    throw err;
  }
  return stack;
}
