/**
 * deliverInbound: hands one accepted SMTP transaction to the edge and resolves only once the
 * edge has durably committed it. The MX answers 250 to DATA only after this resolves
 * (accepted means stored); any failure rejects with an error the caller maps to a reply.
 *
 * Retries are idempotent: the idempotency key is a digest of the envelope and the octets
 * the sender sent (before our trace fields), so a sender retrying after a 451 whose commit
 * did in fact land gets the first result back instead of a second copy.
 */
import { createHash, randomBytes } from "node:crypto";
import type { DeliveryResult } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { uploadMessage } from "./message-upload.ts";
import { traceHeaders } from "./trace.ts";

export interface InboundMessage {
  mailFrom: string;
  recipients: string[];
  /** The message as the client sent it (dot-unstuffed). */
  raw: Buffer;
  heloName: string;
  remoteAddress: string;
  secure: boolean;
}

export interface InboundContext {
  edge: EdgeClient;
  hostname: string;
  now?: () => Date;
}

export function idempotencyKeyFor(message: Pick<InboundMessage, "mailFrom" | "recipients" | "raw">): string {
  const h = createHash("sha256");
  h.update(message.mailFrom.toLowerCase()).update("\0");
  h.update([...message.recipients].map((r) => r.toLowerCase()).sort().join(",")).update("\0");
  h.update(message.raw);
  return `smtp:${h.digest("hex")}`;
}

export async function deliverInbound(ctx: InboundContext, message: InboundMessage): Promise<DeliveryResult> {
  const id = randomBytes(9).toString("base64url");
  const trace = traceHeaders({
    mailFrom: message.mailFrom,
    recipients: message.recipients,
    heloName: message.heloName,
    remoteAddress: message.remoteAddress,
    secure: message.secure,
    byHost: ctx.hostname,
    id,
    date: (ctx.now ?? (() => new Date()))(),
  });
  const { blob, index, search } = await uploadMessage(ctx.edge, trace, message.raw);
  return ctx.edge.deliver({
    idempotencyKey: idempotencyKeyFor(message),
    blob,
    envelope: { mailFrom: message.mailFrom, recipients: message.recipients },
    index,
    search,
  });
}
