/**
 * IMAP string encodings (RFC 9051 §4.3): NIL, quoted string or literal.
 *
 * Every place that puts a server-chosen string on the wire goes through here, so the rule
 * for "when is a quoted string not enough" lives in one spot. Like Dovecot, we send a
 * literal rather than an escaped quoted string whenever the value holds `"` or `\`,
 * CR/LF, NUL or any 8-bit octet: clients parse literals more reliably than escapes.
 */

const encoder = new TextEncoder();

export type StringValue = string | Uint8Array;

export function toBytes(value: StringValue): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** True when the bytes may travel inside a quoted string without escaping. */
export function isQuotable(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0 || b === 0x0a || b === 0x0d || b === 0x22 || b === 0x5c || b >= 0x80) return false;
  }
  return true;
}

export function quoted(value: StringValue): Buffer {
  const bytes = toBytes(value);
  if (!isQuotable(bytes)) throw new RangeError("value cannot be sent as a quoted string");
  return Buffer.concat([Buffer.from('"'), bytes, Buffer.from('"')]);
}

export function literal(value: StringValue): Buffer {
  const bytes = toBytes(value);
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

/** A string: quoted when it can be, a literal otherwise. */
export function string(value: StringValue): Buffer {
  const bytes = toBytes(value);
  return isQuotable(bytes) ? quoted(bytes) : literal(bytes);
}

/** An nstring: NIL for null, otherwise as {@link string}. */
export function nstring(value: StringValue | null | undefined): Buffer {
  return value === null || value === undefined ? Buffer.from("NIL") : string(value);
}

const ATOM_SPECIALS = /[\x00-\x20\x7f-\uffff(){%*"\\\]]/;

/** An astring: a bare atom when the value is a valid, non-empty atom, else a string. */
export function astring(value: StringValue): Buffer {
  const bytes = toBytes(value);
  const text = Buffer.from(bytes).toString("latin1");
  if (text.length > 0 && !ATOM_SPECIALS.test(text) && text.toUpperCase() !== "NIL") return Buffer.from(bytes);
  return string(bytes);
}
