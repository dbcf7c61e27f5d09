/**
 * Header text decoding for search and sort: unfolding (RFC 5322 §2.2.3) and RFC 2047
 * encoded words, on the binary strings of the MIME index (one char per octet).
 *
 * An encoded word is `=?charset?B|Q?text?=` where charset (optionally with an RFC 2231
 * `*language` suffix) and text contain no "?" and no white space. Like Dovecot, a word is
 * decoded wherever it stands (also inside a quoted string or glued to other text). A word is
 * left exactly as written when it is malformed: B text that is not base64, an unknown
 * charset, a missing `?=`. White space between two decoded words is dropped (RFC 2047 §6.2),
 * and adjacent words in the same charset are decoded together, so a multi-octet character
 * split across two words survives. Text outside words: its raw 8-bit octets are read as
 * UTF-8 when valid, else as latin1.
 */

import { binaryToBytes } from "./bytes.ts";
import { decodeBase64 } from "./transfer-decoding.ts";
import { decodeCharset, decodeUtf8OrLatin1, isKnownCharset, normalizeCharset } from "./charset.ts";

const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;

/** Remove the line breaks of folded header lines (the white space after them stays). */
export function unfold(value: string): string {
  return value.indexOf("\n") === -1 ? value : value.replace(/\r?\n/g, "");
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The octets of an encoded word's text, or null when it cannot be decoded. */
export function decodeWordText(encoding: string, text: string): Uint8Array | null {
  if (encoding === "Q" || encoding === "q") {
    const out = new Uint8Array(text.length);
    let o = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i) & 0xff;
      if (c === 0x5f) out[o++] = 0x20;
      else if (c === 0x3d && i + 2 < text.length && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
        out[o++] = (hexValue(text.charCodeAt(i + 1)) << 4) | hexValue(text.charCodeAt(i + 2));
        i += 2;
      } else out[o++] = c; // a stray "=" is kept (lenient)
    }
    return out.subarray(0, o);
  }
  if (!BASE64_TEXT.test(text)) return null;
  const data = text.replace(/=+$/, "");
  if (data.length % 4 === 1) return null;
  // Validated above: only alphabet characters remain, so the lenient decoder decodes them exactly.
  return decodeBase64(binaryToBytes(data));
}

type Piece = { word: false; text: string } | { word: true; charset: string; bytes: Uint8Array };

function decodeRaw(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return decodeUtf8OrLatin1(binaryToBytes(text));
  }
  return text;
}

function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/**
 * Decode a header field body (binary string) to text: unfolded, encoded words decoded, raw
 * 8-bit octets read as UTF-8 or latin1. Never throws.
 */
export function decodeHeaderText(value: string): string {
  const s = unfold(value);
  if (s.indexOf("=?") === -1) return decodeRaw(s);
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of s.matchAll(WORD)) {
    const charset = m[1]!;
    if (!isKnownCharset(charset)) continue; // left as written
    const bytes = decodeWordText(m[2]!, m[3]!);
    if (bytes === null) continue;
    const at = m.index;
    if (at > last) pieces.push({ word: false, text: s.slice(last, at) });
    pieces.push({ word: true, charset: normalizeCharset(charset), bytes });
    last = at + m[0].length;
  }
  if (last < s.length) pieces.push({ word: false, text: s.slice(last) });

  let out = "";
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (!piece.word) {
      const between = i > 0 && pieces[i - 1]!.word && i + 1 < pieces.length && pieces[i + 1]!.word;
      if (!(between && isBlank(piece.text))) out += decodeRaw(piece.text);
      continue;
    }
    // Gather the following words in the same charset (blank text between them is dropped).
    const run: Uint8Array[] = [piece.bytes];
    let j = i + 1;
    for (;;) {
      let k = j;
      const p = pieces[k];
      if (p !== undefined && !p.word && isBlank(p.text)) k++;
      const next = pieces[k];
      if (next === undefined || !next.word || next.charset !== piece.charset) break;
      run.push(next.bytes);
      j = k + 1;
    }
    i = j - 1;
    let bytes = run[0]!;
    if (run.length > 1) {
      bytes = new Uint8Array(run.reduce((n, b) => n + b.length, 0));
      let o = 0;
      for (const b of run) {
        bytes.set(b, o);
        o += b.length;
      }
    }
    out += decodeCharset(bytes, piece.charset);
  }
  return out;
}
