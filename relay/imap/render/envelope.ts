/**
 * FETCH ENVELOPE value, byte for byte as Dovecot 2.3 writes it (imap-envelope.c).
 *
 * The index keeps field values raw (binary strings, folds included); the output rules
 * live here: Date, In-Reply-To and Message-ID verbatim minus line breaks, Subject and
 * display names cleaned up for humans, 8-bit octets sent unchanged inside literals.
 */

import type { Address, Envelope } from "../../../common/mime/index.ts";
import { humanString, nstringEscaped, nstringNoLf } from "../protocol/strings.ts";

const NIL = Buffer.from("NIL");
const SP = Buffer.from(" ");
const OPEN = Buffer.from("(");
const CLOSE = Buffer.from(")");

/** Octets of a binary string (one char per octet). */
export function octets(value: string): Buffer {
  return Buffer.from(value, "latin1");
}

function opt(value: string | null): Buffer | null {
  return value === null ? null : octets(value);
}

function addressList(list: Address[] | null, out: Buffer[]): void {
  if (list === null || list.length === 0) {
    out.push(NIL);
    return;
  }
  out.push(OPEN);
  for (const a of list) {
    out.push(OPEN);
    out.push(a.name === null ? NIL : humanString(octets(a.name)));
    out.push(SP, nstringEscaped(opt(a.adl)));
    out.push(SP, nstringEscaped(opt(a.mailbox)));
    out.push(SP, nstringEscaped(opt(a.host)));
    out.push(CLOSE);
  }
  out.push(CLOSE);
}

/** Append the envelope, with its parentheses, to `out`. */
export function writeEnvelope(env: Envelope, out: Buffer[]): void {
  out.push(OPEN, nstringNoLf(opt(env.date)), SP);
  out.push(env.subject === null ? NIL : humanString(octets(env.subject)));
  const from = env.from;
  for (const list of [from, env.sender ?? from, env.replyTo ?? from, env.to, env.cc, env.bcc]) {
    out.push(SP);
    addressList(list, out);
  }
  out.push(SP, nstringNoLf(opt(env.inReplyTo)), SP, nstringNoLf(opt(env.messageId)), CLOSE);
}

/** `(date subject (from) (sender) (reply-to) (to) (cc) (bcc) in-reply-to message-id)` */
export function renderEnvelope(env: Envelope): Buffer {
  const out: Buffer[] = [];
  writeEnvelope(env, out);
  return Buffer.concat(out);
}
