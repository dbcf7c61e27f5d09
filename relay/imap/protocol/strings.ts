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

/*
 * Dovecot-compatible variants. Dovecot's FETCH ENVELOPE/BODYSTRUCTURE output differs from
 * the conservative rule above in two ways that clients can observe byte for byte:
 *  - a value with at most four `"`/`\` (and no CR, LF, NUL or 8-bit octet) is sent as a
 *    quoted string with backslash escapes instead of a literal (imap_append_nstring);
 *  - subjects and display names are cleaned up "for humans" (imap_append_string_for_humans).
 */

const QUOTED_MAX_ESCAPE_CHARS = 4;

/** A quoted string with `"` and `\` escaped. The value must hold no CR, LF, NUL or 8-bit octet. */
export function quotedEscaped(value: StringValue): Buffer {
  const bytes = toBytes(value);
  const out: number[] = [0x22];
  for (const b of bytes) {
    if (b === 0 || b === 0x0a || b === 0x0d || b >= 0x80) throw new RangeError("value cannot be sent as a quoted string");
    if (b === 0x22 || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  out.push(0x22);
  return Buffer.from(out);
}

/** A string as Dovecot writes it: quoted (escaping up to four `"`/`\`), else a literal. */
export function stringEscaped(value: StringValue): Buffer {
  const bytes = toBytes(value);
  let escapes = 0;
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) {
      if (++escapes > QUOTED_MAX_ESCAPE_CHARS) return literal(bytes);
    } else if (b === 0 || b === 0x0a || b === 0x0d || b >= 0x80) {
      return literal(bytes);
    }
  }
  return quotedEscaped(bytes);
}

/** NIL for null, otherwise as {@link stringEscaped}. */
export function nstringEscaped(value: StringValue | null | undefined): Buffer {
  return value === null || value === undefined ? Buffer.from("NIL") : stringEscaped(value);
}

/**
 * As {@link nstringEscaped}, after removing CR and LF; a line break that is not followed
 * by whitespace becomes a space (Dovecot's imap_append_nstring_nolf).
 */
export function nstringNoLf(value: StringValue | null | undefined): Buffer {
  if (value === null || value === undefined) return Buffer.from("NIL");
  const bytes = toBytes(value);
  if (!bytes.includes(0x0d) && !bytes.includes(0x0a)) return stringEscaped(bytes);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x0d && b !== 0x0a) {
      out.push(b);
      continue;
    }
    const next = bytes[i + 1];
    if (next !== undefined && next !== 0x20 && next !== 0x09 && next !== 0x0d && next !== 0x0a && next !== 0) out.push(0x20);
  }
  return stringEscaped(Uint8Array.from(out));
}

/**
 * A string cleaned up for humans, as Dovecot writes subjects and display names: CR, LF
 * and TAB become spaces, runs of spaces collapse, leading and trailing spaces go, NUL
 * becomes 0x80. Sent quoted when nothing had to change and it holds no `"`, `\` or
 * 8-bit octet; `""` when only whitespace was left; a literal otherwise.
 */
export function humanString(value: StringValue): Buffer {
  const bytes = toBytes(value);
  let modify = false;
  for (let i = 0, lastSpace = true; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a) {
      if (b !== 0x20 || lastSpace) modify = true;
      lastSpace = true;
    } else {
      if (b === 0 || b === 0x22 || b === 0x5c || b >= 0x80) modify = true;
      lastSpace = false;
    }
  }
  const last = bytes[bytes.length - 1];
  if (last === 0x20) modify = true;
  if (!modify) return Buffer.concat([Buffer.from('"'), bytes, Buffer.from('"')]);
  const out: number[] = [];
  let pendingSpace = false;
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a) {
      if (out.length > 0) pendingSpace = true;
      continue;
    }
    if (pendingSpace) out.push(0x20);
    pendingSpace = false;
    out.push(b === 0 ? 0x80 : b);
  }
  if (out.length === 0) return Buffer.from('""');
  return literal(Uint8Array.from(out));
}
