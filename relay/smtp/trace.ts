/**
 * Trace fields (RFC 5321 §4.4) the relay prepends when it takes a message in: Return-Path
 * with the envelope sender, and a Received line saying from whom, by whom, with what
 * protocol (RFC 3848: ESMTPS when the session was under TLS, ESMTPSA for submissions), and when.
 */
export interface TraceInput {
  mailFrom: string;
  recipients: string[];
  heloName: string;
  remoteAddress: string;
  secure: boolean;
  byHost: string;
  id: string;
  date: Date;
}

export function traceHeaders(t: TraceInput): string {
  const from = `${sanitize(t.heloName || "unknown")} ([${sanitize(t.remoteAddress)}])`;
  const protocol = t.secure ? "ESMTPS" : "ESMTP";
  const forClause = t.recipients.length === 1 ? `\r\n\tfor <${sanitize(t.recipients[0]!)}>` : "";
  return (
    `Return-Path: <${sanitize(t.mailFrom)}>\r\n` +
    `Received: from ${from}\r\n\tby ${t.byHost} (edgemail) with ${protocol} id ${t.id}${forClause};\r\n\t${rfc5322Date(t.date)}\r\n`
  );
}

/** The Received field of a submission (RFC 5321 §4.4, RFC 3848 ESMTPA/ESMTPSA): names the user, no Return-Path (that belongs to final delivery). */
export function submissionReceived(t: {
  heloName: string;
  remoteAddress: string;
  secure: boolean;
  user: string;
  byHost: string;
  id: string;
  date: Date;
}): string {
  const protocol = t.secure ? "ESMTPSA" : "ESMTPA";
  return (
    `Received: from ${sanitize(t.heloName || "unknown")} ([${sanitize(t.remoteAddress)}])\r\n` +
    `\t(Authenticated sender: ${sanitize(t.user)})\r\n` +
    `\tby ${t.byHost} (edgemail) with ${protocol} id ${t.id};\r\n\t${rfc5322Date(t.date)}\r\n`
  );
}

/** Keeps client-supplied text from breaking out of the header line. */
function sanitize(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, "?");
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
