/**
 * Modified UTF-7 (RFC 3501 §5.1.3), how IMAP4rev1 sessions spell mailbox names on the wire.
 *
 * Printable US-ASCII (0x20–0x7E) stands for itself except "&", which is "&-"; every other
 * character is written as "&" + modified BASE64 ("," instead of "/", no padding) of its UTF-16
 * code units + "-".
 *
 * Callers may rely on: `encodeMutf7` always produces the one canonical form, and
 * `decodeMutf7` accepts only canonical input (so a name has exactly one wire spelling, as
 * Dovecot insists too): 8-bit or control octets, an unterminated "&", bits left over, an odd
 * number of octets, an unpaired surrogate, printable ASCII hidden in BASE64 and two adjacent
 * BASE64 runs all throw {@link Mutf7Error}.
 */

export class Mutf7Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Mutf7Error";
  }
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** A mailbox name (any JS string) in modified UTF-7: plain ASCII. */
export function encodeMutf7(name: string): string {
  let out = "";
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (isDirect(code)) {
      out += code === 0x26 ? "&-" : name[i];
      i++;
      continue;
    }
    // A run of characters that need BASE64, as UTF-16BE octets.
    const octets: number[] = [];
    while (i < name.length && !isDirect(name.charCodeAt(i))) {
      const unit = name.charCodeAt(i++);
      octets.push(unit >> 8, unit & 0xff);
    }
    out += "&";
    let bits = 0;
    let buffer = 0;
    for (const octet of octets) {
      buffer = (buffer << 8) | octet;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += ALPHABET[(buffer >> bits) & 0x3f];
      }
      buffer &= (1 << bits) - 1;
    }
    if (bits > 0) out += ALPHABET[(buffer << (6 - bits)) & 0x3f];
    out += "-";
  }
  return out;
}

/** Modified UTF-7 octets (or a string of them) back to the name; throws Mutf7Error when not canonical. */
export function decodeMutf7(input: Uint8Array | string): string {
  const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
  let out = "";
  let i = 0;
  let lastRunEnd = -1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (!isDirect(code)) throw new Mutf7Error("mailbox name holds an octet outside printable US-ASCII");
    if (code !== 0x26) {
      out += text[i++];
      continue;
    }
    const end = text.indexOf("-", i + 1);
    if (end < 0) throw new Mutf7Error('"&" without its closing "-"');
    if (end === i + 1) {
      out += "&";
      i = end + 1;
      continue;
    }
    if (i === lastRunEnd) throw new Mutf7Error("two adjacent BASE64 runs");
    let bits = 0;
    let buffer = 0;
    const units: number[] = [];
    let pending = -1; // first octet of a UTF-16 unit
    for (let j = i + 1; j < end; j++) {
      const c = text.charCodeAt(j);
      const v = c < 128 ? (VALUE[c] as number) : -1;
      if (v < 0) throw new Mutf7Error(`invalid BASE64 character "${text[j]}"`);
      buffer = (buffer << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        const octet = (buffer >> bits) & 0xff;
        buffer &= (1 << bits) - 1;
        if (pending < 0) pending = octet;
        else {
          units.push((pending << 8) | octet);
          pending = -1;
        }
      }
    }
    if (pending >= 0) throw new Mutf7Error("BASE64 run ends inside a UTF-16 code unit");
    if (bits >= 6 || buffer !== 0) throw new Mutf7Error("BASE64 run has bits left over");
    for (let k = 0; k < units.length; k++) {
      const unit = units[k] as number;
      if (isDirect(unit)) throw new Mutf7Error("printable US-ASCII encoded in BASE64");
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const next = units[k + 1];
        if (next === undefined || next < 0xdc00 || next > 0xdfff) throw new Mutf7Error("unpaired surrogate");
        out += String.fromCharCode(unit, next);
        k++;
        continue;
      }
      if (unit >= 0xdc00 && unit <= 0xdfff) throw new Mutf7Error("unpaired surrogate");
      out += String.fromCharCode(unit);
    }
    i = end + 1;
    lastRunEnd = i;
  }
  return out;
}
