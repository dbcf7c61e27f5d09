/**
 * FETCH BODYSTRUCTURE / BODY values, byte for byte as Dovecot 2.3 writes them
 * (imap-bodystructure.c): every extension field is present (NIL when empty), language is
 * always a list, a disposition without parameters is `("inline" NIL)`, a message/rfc822
 * part is always written `"message" "rfc822"`, and a multipart without body parts gets
 * one empty text/plain child.
 */

import type { BodyPart } from "../../../common/mime/index.ts";
import { nstringNoLf, stringEscaped } from "../protocol/strings.ts";
import { octets, writeEnvelope } from "./envelope.ts";

const NIL = Buffer.from("NIL");
const SP = Buffer.from(" ");
const OPEN = Buffer.from("(");
const CLOSE = Buffer.from(")");
const MESSAGE_RFC822 = Buffer.from('"message" "rfc822"');
const EMPTY_BODY = Buffer.from('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)');
const EMPTY_BODYSTRUCTURE = Buffer.from('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)');

function str(value: string): Buffer {
  return stringEscaped(octets(value));
}

function nstr(value: string | null): Buffer {
  return nstringNoLf(value === null ? null : octets(value));
}

function params(list: [string, string][] | null, out: Buffer[]): void {
  if (list === null || list.length === 0) {
    out.push(NIL);
    return;
  }
  out.push(OPEN);
  list.forEach(([name, value], i) => {
    if (i > 0) out.push(SP);
    out.push(str(name), SP, str(value));
  });
  out.push(CLOSE);
}

/** disposition, language and location (shared by all part kinds). */
function common(part: BodyPart, out: Buffer[]): void {
  out.push(SP);
  if (part.disposition === null) {
    out.push(NIL);
  } else {
    out.push(OPEN, str(part.disposition.type), SP);
    params(part.disposition.params, out);
    out.push(CLOSE);
  }
  out.push(SP);
  if (part.language === null || part.language.length === 0) {
    out.push(NIL);
  } else {
    out.push(OPEN);
    part.language.forEach((lang, i) => {
      if (i > 0) out.push(SP);
      out.push(str(lang));
    });
    out.push(CLOSE);
  }
  out.push(SP, nstr(part.location));
}

/** The contents of one body structure, without its own parentheses. */
function write(part: BodyPart, extended: boolean, out: Buffer[]): void {
  if (part.parts !== undefined) {
    if (part.parts.length === 0) {
      out.push(extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY);
    } else {
      for (const child of part.parts) {
        out.push(OPEN);
        write(child, extended, out);
        out.push(CLOSE);
      }
    }
    out.push(SP, str(part.subtype));
    if (!extended) return;
    out.push(SP);
    params(part.params, out);
    common(part, out);
    return;
  }

  if (part.message !== undefined) out.push(MESSAGE_RFC822);
  else out.push(str(part.type), SP, str(part.subtype));
  out.push(SP);
  params(part.params, out);
  out.push(SP, nstr(part.id), SP, nstr(part.description), SP, str(part.encoding));
  out.push(Buffer.from(` ${part.size}`));
  if (part.message !== undefined) {
    out.push(SP);
    writeEnvelope(part.message.envelope, out);
    out.push(SP, OPEN);
    write(part.message.body, extended, out);
    out.push(CLOSE, Buffer.from(` ${part.lines ?? 0}`));
  } else if (part.lines !== null) {
    out.push(Buffer.from(` ${part.lines}`));
  }
  if (!extended) return;
  out.push(SP, nstr(part.md5));
  common(part, out);
}

/** `(...)` for BODYSTRUCTURE (extended = true) or BODY (extended = false). */
export function renderBodyStructure(part: BodyPart, extended: boolean): Buffer {
  const out: Buffer[] = [OPEN];
  write(part, extended, out);
  out.push(CLOSE);
  return Buffer.concat(out);
}
