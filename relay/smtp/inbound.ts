/**
 * deliverInbound: hands one accepted SMTP transaction to the edge and resolves only once the
 * edge has durably committed it. The MX answers 250 to DATA only after this resolves
 * (accepted means stored); any failure rejects with an error the caller maps to a reply.
 *
 * Retries are idempotent: the idempotency key is a digest of the envelope and the octets
 * the sender sent (before our trace fields), so a sender retrying after a 451 whose commit
 * did in fact land gets the first result back instead of a second copy.
 *
 * Before anything is uploaded the message is authenticated (SPF, DKIM, DMARC, ARC, iprev:
 * inbound-authentication.ts) and judged against the recipients' domain policies
 * (inbound-verdict.ts): a "reject" verdict throws an {@link SmtpReply} 550 5.7.1 and nothing is
 * stored. Otherwise Authentication-Results fields claiming our hostname are removed, and
 * Return-Path, Received and our one Authentication-Results are prepended (in that order, as
 * Gmail and Postfix with milters do); the edge gets the results and the verdict with the delivery.
 */
import { createHash, randomBytes } from "node:crypto";
import type { DeliveryResult, InboundPolicy } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { authenticateInbound, removeOwnAuthenticationResults, type MailauthResolver } from "./inbound-authentication.ts";
import { uploadMessage } from "./message-upload.ts";
import { SmtpReply } from "./replies.ts";
import { traceHeaders } from "./trace.ts";

export interface InboundMessage {
  mailFrom: string;
  recipients: string[];
  /** The message as the client sent it (dot-unstuffed). */
  raw: Buffer;
  heloName: string;
  remoteAddress: string;
  secure: boolean;
  /** The inbound policies of the accepted recipients' domains (mxSession(session).policies). */
  policies: InboundPolicy[];
  /** DNSBL zones listing the client (mxSession(session).dnsblListings). */
  dnsblListings: string[];
}

export interface InboundContext {
  edge: EdgeClient;
  hostname: string;
  /** Every SPF/DKIM/DMARC/ARC/iprev lookup goes here (tests: a local zone). */
  resolver: MailauthResolver;
  now?: () => Date;
  /** Uniform in [0, 1), for DMARC pct sampling. */
  random?: () => number;
  /** Budget for the authentication checks of one message. */
  authenticationTimeoutMs?: number;
  /** Told of every quarantined message (rejections are the caller's to log). */
  log?: (line: string) => void;
}

/** The verdict was "reject": answered 550 5.7.1 at the end of DATA, nothing stored. */
export class InboundRejected extends SmtpReply {
  readonly reasons: string[];

  constructor(text: string, reasons: string[]) {
    super(550, "5.7.1", text);
    this.reasons = reasons;
  }
}

export function idempotencyKeyFor(message: Pick<InboundMessage, "mailFrom" | "recipients" | "raw">): string {
  const h = createHash("sha256");
  h.update(message.mailFrom.toLowerCase()).update("\0");
  h.update([...message.recipients].map((r) => r.toLowerCase()).sort().join(",")).update("\0");
  h.update(message.raw);
  return `smtp:${h.digest("hex")}`;
}

export async function deliverInbound(ctx: InboundContext, message: InboundMessage): Promise<DeliveryResult> {
  const checked = await authenticateInbound(
    { hostname: ctx.hostname, resolver: ctx.resolver, random: ctx.random, timeoutMs: ctx.authenticationTimeoutMs },
    message,
  );
  if (checked.verdict.action === "reject") throw new InboundRejected(checked.verdict.text, checked.verdict.reasons);
  const { message: cleaned } = removeOwnAuthenticationResults(message.raw, ctx.hostname);
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
  const { blob, index, search } = await uploadMessage(ctx.edge, trace + checked.field, cleaned);
  const result = await ctx.edge.deliver({
    idempotencyKey: idempotencyKeyFor(message),
    blob,
    envelope: { mailFrom: message.mailFrom, recipients: message.recipients },
    index,
    search,
    authentication: checked.authentication,
  });
  if (checked.verdict.action === "quarantine") {
    ctx.log?.(`quarantined ${result.deliveryId} <${message.mailFrom}> from [${message.remoteAddress}]: ${checked.verdict.reasons.join(",")}`);
  }
  return result;
}
