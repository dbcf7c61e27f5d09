/**
 * submitMessage: hands one authenticated submission (465/587) to the edge and resolves only
 * once the edge has durably stored it (local copies delivered, remote recipients queued).
 * The listener answers 250 only after this resolves; any failure rejects, and the caller
 * maps it to a reply (451 4.3.0 for anything temporary).
 *
 * The message is prepared exactly as inbound mail is (inbound.ts): line endings normalized,
 * a Received trace field prepended, indexed, search fields computed, the blob put first.
 * Differences: the Received line names the authenticated user and says ESMTPSA/ESMTPA
 * (RFC 3848), and there is no Return-Path, which belongs to final delivery (RFC 5321 §4.4).
 *
 * Retries are idempotent: the key is a digest of the principal, the envelope and the octets
 * the client sent (before our trace field, whose id and date differ on every try).
 */
import { createHash, randomBytes } from "node:crypto";
import { parseAddressList } from "../../common/mime/address.ts";
import { findField, parseHeaderBlock } from "../../common/mime/headers.ts";
import type { AuthResult, SubmissionResult } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { uploadMessage } from "./message-upload.ts";
import { submissionReceived } from "./trace.ts";

export interface SubmittedMessage {
  principal: AuthResult;
  mailFrom: string;
  recipients: string[];
  /** The message as the client sent it (dot-unstuffed). */
  raw: Buffer;
  heloName: string;
  remoteAddress: string;
  secure: boolean;
}

export interface SubmissionContext {
  edge: EdgeClient;
  hostname: string;
  now?: () => Date;
}

export function submissionIdempotencyKey(message: Pick<SubmittedMessage, "principal" | "mailFrom" | "recipients" | "raw">): string {
  const h = createHash("sha256");
  h.update(String(message.principal.accountId)).update("\0");
  h.update(message.mailFrom.toLowerCase()).update("\0");
  h.update([...message.recipients].map((r) => r.toLowerCase()).sort().join(",")).update("\0");
  h.update(message.raw);
  return `submission:${h.digest("hex")}`;
}

/**
 * Every address (addr-spec, lower case) of the message's first From field; null when the
 * message has no From field, [] when it has one without a usable address. Group syntax
 * markers and c-client placeholders for broken input are not addresses.
 */
export function headerFromAddresses(raw: Uint8Array): string[] | null {
  const { fields } = parseHeaderBlock(raw);
  const from = findField(fields, "from");
  if (!from) return null;
  const list = parseAddressList(from.value) ?? [];
  const out: string[] = [];
  for (const a of list) {
    if (!a.mailbox || !a.host) continue;
    if (a.mailbox === "MISSING_MAILBOX" || a.host === "MISSING_DOMAIN" || a.host === "SYNTAX_ERROR" || a.host === "INVALID_ROUTE") {
      return [];
    }
    out.push(`${a.mailbox}@${a.host}`.toLowerCase());
  }
  return out;
}

export async function submitMessage(ctx: SubmissionContext, message: SubmittedMessage): Promise<SubmissionResult> {
  const id = randomBytes(9).toString("base64url");
  const trace = submissionReceived({
    heloName: message.heloName,
    remoteAddress: message.remoteAddress,
    secure: message.secure,
    user: message.principal.address,
    byHost: ctx.hostname,
    id,
    date: (ctx.now ?? (() => new Date()))(),
  });
  const { blob, index, search } = await uploadMessage(ctx.edge, trace, message.raw);
  return ctx.edge.submit(message.principal.accountId, {
    idempotencyKey: submissionIdempotencyKey(message),
    blob,
    envelope: { mailFrom: message.mailFrom, recipients: message.recipients },
    index,
    search,
  });
}
