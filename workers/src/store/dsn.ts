/**
 * Delivery Status Notifications (RFC 3464): the bounce the edge writes to a sender when the
 * outbound queue gives up on recipients. Pure: octets in, octets out (store/outbound.ts stores
 * the result through the ingest path).
 *
 * Callers may rely on: the result is a multipart/report; report-type=delivery-status message with
 * CRLF line endings and three parts — a human-readable text/plain part, a message/delivery-status
 * part (Reporting-MTA, Arrival-Date, then per recipient Final-Recipient, Action: failed, Status,
 * Remote-MTA when known, Diagnostic-Code, Last-Attempt-Date) and a text/rfc822-headers part with
 * the original header octets unchanged; it carries `Auto-Submitted: auto-replied` and is meant to
 * be sent (if at all) with the null reverse-path, so it can never cause another bounce. Text from
 * the remote MTA is reduced to printable ASCII on one line, so it cannot inject header fields.
 */
import { binaryToBytes, bytesToBinary } from "../../../common/mime/index.ts";

export interface BouncedRecipient {
  recipient: string;
  /** RFC 3463 status, e.g. 5.1.1 (failed) or 4.4.7 (gave up after the queue lifetime). */
  status: string;
  /** `smtp; 550 5.1.1 …` or another RFC 3464 diagnostic; absent when nothing was learned. */
  diagnostic?: string | undefined;
  /** Host name of the MX that answered. */
  remoteMta?: string | undefined;
  /** Why, in words, for the human-readable part. */
  reason: string;
  lastAttemptAt: number;
}

export interface DsnInput {
  /** Host name this edge reports as (the sender's domain). */
  reportingMta: string;
  /** The submission's reverse-path: the DSN's To. */
  to: string;
  arrivalDate: number;
  now: number;
  recipients: readonly BouncedRecipient[];
  /** The original message's header, as stored (binary octets, blank line optional). */
  originalHeader: Uint8Array;
  /** Unique; used for the Message-ID and the MIME boundary. */
  id: string;
}

const CRLF = "\r\n";

/** One line of printable ASCII, at most `max` characters: remote text must not shape our headers. */
export function oneLine(text: string, max = 900): string {
  return text
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, max);
}

export function rfc5322Date(ms: number): string {
  // toUTCString gives "Tue, 01 Dec 2026 10:00:00 GMT"; RFC 5322 prefers a numeric zone.
  return new Date(ms).toUTCString().replace(/GMT$/, "+0000");
}

/** `smtp; <code> <enhanced> <text>` from a remote reply (RFC 3464 §2.3.6). */
export function smtpDiagnostic(smtp: { code: number; enhanced: string | null; message: string }): string {
  return oneLine(`smtp; ${smtp.code}${smtp.enhanced ? ` ${smtp.enhanced}` : ""} ${smtp.message}`);
}

export function buildDsn(input: DsnInput): Uint8Array {
  const boundary = `=_dsn_${input.id.replace(/[^A-Za-z0-9]/g, "")}`;
  const host = oneLine(input.reportingMta, 253) || "localhost";
  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${oneLine(input.to, 320)}>`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <dsn-${input.id}@${host}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF}\tboundary="${boundary}"`,
  ].join(CRLF);

  const human = [
    `This is the mail system at ${host}.`,
    "",
    "Your message could not be delivered to one or more recipients.",
    "It is attached below; nothing more will be attempted for these addresses.",
    "",
    ...input.recipients.map((r) => `<${oneLine(r.recipient, 320)}>: ${oneLine(r.reason)}`),
  ].join(CRLF);

  const perMessage = [`Reporting-MTA: dns; ${host}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`].join(CRLF);
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${oneLine(r.recipient, 320)}`,
      "Action: failed",
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${oneLine(r.remoteMta, 253)}`] : []),
      ...(r.diagnostic ? [`Diagnostic-Code: ${oneLine(r.diagnostic)}`] : []),
      `Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`,
    ].join(CRLF),
  );

  // The original header as binary text (one char per octet), without its terminating blank line.
  let original = bytesToBinary(input.originalHeader).replace(/\r?\n/g, CRLF);
  while (original.endsWith(CRLF)) original = original.slice(0, -CRLF.length);

  const text = [
    header,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Description: Notification",
    "",
    human,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "Content-Description: Delivery report",
    "",
    [perMessage, ...perRecipient].join(CRLF + CRLF),
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "Content-Description: Undelivered message headers",
    "Content-Transfer-Encoding: 8bit",
    "",
    original,
    "",
    `--${boundary}--`,
    "",
  ].join(CRLF);
  return binaryToBytes(text);
}
