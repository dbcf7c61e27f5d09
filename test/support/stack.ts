/**
 * Starts the real stack (edge in workerd + relay on loopback, ports chosen by the OS) in a
 * fresh temporary data folder, and removes it afterwards.
 *
 * Callers may rely on: the relay never asks the machine's resolver (SPF, DKIM, DMARC, DNSBL
 * and MX lookups would otherwise leave the machine): a test that gives no `dnsServers` gets
 * an empty local zone, where every name is NXDOMAIN.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStack, type StackOptions } from "../../local/stack.ts";
import { startDnsZone, type DnsZone } from "./dns-zone.ts";

export async function startTestStack(options: Partial<StackOptions> = {}): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "edgemail-test-"));
  const emptyZone: DnsZone | null = options.dnsServers ? null : await startDnsZone([]);
  const dnsServers = options.dnsServers ?? [emptyZone!.server];
  const stack = new LocalStack({ dataDir, edgeTimeoutMs: 5_000, ...options, dnsServers }) as LocalStack & { cleanup(): Promise<void> };
  stack.cleanup = async () => {
    await stack.stop();
    await emptyZone?.stop();
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
