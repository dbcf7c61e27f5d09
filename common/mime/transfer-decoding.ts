/**
 * Content-Transfer-Encoding decoders on octets (RFC 2045 §6.7, §6.8), lenient the way mail
 * readers must be, and never throwing. Used for search text and for IMAP BINARY
 * (BodyPart.decodedSize). Pure: Uint8Array only, runs in workerd.
 *
 * - base64: characters outside the alphabet (line ends, spaces, garbage) are skipped. A
 *   "=" ends the current quantum: a partial quantum of 2 or 3 characters yields 1 or 2
 *   octets, and decoding goes on after it (so concatenated padded blocks decode too).
 *   A lone trailing character (6 bits) is dropped.
 * - quoted-printable: `=XX` (either case of hex digit) is an octet; `=` followed by optional
 *   SP/HTAB and a line end (or the end of the data) is a soft line break; SP/HTAB at the end
 *   of a line are dropped (rule 3: transport padding); any other `=` is kept as is. Hard line
 *   ends are kept as they are in the input (CRLF after normalisation).
 */

import type { BodyPart } from "./types.ts";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const EQ = 0x3d;

const B64 = new Int8Array(256).fill(-1);
(() => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) B64[alphabet.charCodeAt(i)] = i;
})();

const HEX = new Int8Array(256).fill(-1);
(() => {
  for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    HEX[0x41 + i] = 10 + i;
    HEX[0x61 + i] = 10 + i;
  }
})();

/** A base64 decoder fed in pieces (for streamed BINARY fetches); same rules as decodeBase64. */
export interface Base64Decoder {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

export function createBase64Decoder(): Base64Decoder {
  let acc = 0;
  let n = 0;
  const flush = (out: Uint8Array, o: number): number => {
    if (n === 2) out[o++] = (acc >> 4) & 0xff;
    else if (n === 3) {
      out[o++] = (acc >> 10) & 0xff;
      out[o++] = (acc >> 2) & 0xff;
    }
    acc = 0;
    n = 0;
    return o;
  };
  return {
    push(input) {
      const out = new Uint8Array(Math.floor(((input.length + n) * 3) / 4) + 3);
      let o = 0;
      for (let i = 0; i < input.length; i++) {
        const c = input[i]!;
        const v = B64[c]!;
        if (v < 0) {
          if (c === EQ) o = flush(out, o);
          continue;
        }
        acc = (acc << 6) | v;
        if (++n === 4) {
          out[o++] = (acc >> 16) & 0xff;
          out[o++] = (acc >> 8) & 0xff;
          out[o++] = acc & 0xff;
          acc = 0;
          n = 0;
        }
      }
      return out.subarray(0, o);
    },
    end() {
      const out = new Uint8Array(2);
      return out.subarray(0, flush(out, 0));
    },
  };
}

/** Decode base64 leniently (see the module comment). */
export function decodeBase64(input: Uint8Array): Uint8Array {
  const decoder = createBase64Decoder();
  const body = decoder.push(input);
  const tail = decoder.end();
  if (tail.length === 0) return body;
  const out = new Uint8Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}

function isWsp(c: number | undefined): boolean {
  return c === SP || c === HT;
}

/** Decode quoted-printable leniently (see the module comment). */
export function decodeQuotedPrintable(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = input[i]!;
    if (c === EQ) {
      const h = i + 2 < n ? HEX[input[i + 1]!]! : -1;
      const l = i + 2 < n ? HEX[input[i + 2]!]! : -1;
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        i += 3;
        continue;
      }
      // Soft line break: "=" [WSP...] (CRLF / LF / end of data).
      let j = i + 1;
      while (j < n && isWsp(input[j])) j++;
      if (j === n) {
        i = n;
        continue;
      }
      if (input[j] === LF) {
        i = j + 1;
        continue;
      }
      if (input[j] === CR && (j + 1 === n || input[j + 1] === LF)) {
        i = j + 2;
        continue;
      }
      out[o++] = EQ; // not an escape: keep it
      i++;
      continue;
    }
    if (isWsp(c)) {
      let j = i;
      while (j < n && isWsp(input[j])) j++;
      if (j === n || input[j] === LF || (input[j] === CR && (j + 1 === n || input[j + 1] === LF))) {
        i = j; // trailing whitespace of a line is transport padding
        continue;
      }
      while (i < j) out[o++] = input[i++]!;
      continue;
    }
    out[o++] = c;
    i++;
  }
  return out.subarray(0, o);
}

/** The transfer encoding as a decoder kind, or null for identity (7bit, 8bit, binary, unknown). */
export function transferKind(encoding: string | null | undefined): "base64" | "quoted-printable" | null {
  if (typeof encoding !== "string") return null;
  const e = encoding.trim().toLowerCase();
  return e === "base64" || e === "quoted-printable" ? e : null;
}

/** Undo a Content-Transfer-Encoding; identity for anything but base64 and quoted-printable. */
export function decodeTransfer(body: Uint8Array, encoding: string | null | undefined): Uint8Array {
  const kind = transferKind(encoding);
  if (kind === "base64") return decodeBase64(body);
  if (kind === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

/**
 * Set `decodedSize` on every non-multipart part (also message/rfc822 parts, which RFC 2046
 * forbids to encode but oracle 057 does) whose encoding is base64 or quoted-printable.
 * Nothing else is touched.
 */
export function addDecodedSizes(raw: Uint8Array, part: BodyPart, depth = 0): void {
  if (depth > 200) return;
  if (part.parts !== undefined) {
    for (const child of part.parts) addDecodedSizes(raw, child, depth + 1);
    return;
  }
  if (transferKind(part.encoding) !== null) {
    const start = Math.max(0, Math.min(part.bodyStart, raw.length));
    const end = Math.max(start, Math.min(part.bodyEnd, raw.length));
    part.decodedSize = decodeTransfer(raw.subarray(start, end), part.encoding).length;
  }
  if (part.message !== undefined) addDecodedSizes(raw, part.message.body, depth + 1);
}
