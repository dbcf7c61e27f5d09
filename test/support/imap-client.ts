/**
 * An imapflow session on the stack's IMAPS port, logged in (the demo account unless another
 * is given). The certificate is the stack's self-signed one, hence no verification.
 */
import { ImapFlow } from "imapflow";
import type { LocalStack } from "../../local/stack.ts";

export async function connectImap(stack: LocalStack, user?: { address: string; password: string }): Promise<ImapFlow> {
  const account = user ?? stack.settings().demo;
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: stack.relay!.ports.imaps!,
    secure: true,
    auth: { user: account.address, pass: account.password },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  await client.connect();
  return client;
}
