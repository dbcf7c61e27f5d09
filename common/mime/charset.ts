/**
 * Charset decoding for search: octets in a declared charset to a JS string, with the
 * fallbacks mail needs. Uses only TextDecoder (WHATWG Encoding Standard labels), so it runs
 * in Node and workerd; a label the runtime does not know is treated like no label.
 *
 * - "us-ascii" (and its aliases), no charset and unknown charsets (also "x-user-defined" and
 *   the Encoding Standard's "replacement" labels such as iso-2022-kr): the octets as UTF-8 when
 *   they are valid UTF-8 (a us-ascii part that really holds UTF-8 is common, oracle 039),
 *   else latin1 (one char per octet). Dovecot also reads us-ascii as UTF-8.
 * - "utf-8": UTF-8, invalid sequences become U+FFFD.
 * - Anything else: the runtime's decoder for that label. Note that per WHATWG
 *   "iso-8859-1"/"latin1" decode as windows-1252 (0x80..0x9F are the cp1252 characters),
 *   which is what mislabelled real-world mail needs.
 */

import { bytesToBinary } from "./bytes.ts";

/* common/ is compiled without DOM or Node types: declare the one global this file needs. */
interface Decoder {
  readonly encoding: string;
  decode(input?: Uint8Array): string;
}
declare const TextDecoder: {
  new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): Decoder;
};

const ASCII_LABELS = new Set([
  "",
  "us-ascii",
  "ascii",
  "us",
  "ansi_x3.4-1968",
  "ansi_x3.4-1986",
  "iso646-us",
  "iso_646.irv:1991",
  "iso-ir-6",
  "cp367",
  "ibm367",
  "csascii",
  "646",
]);

/** Labels the Encoding Standard knows but that are useless for mail text. */
const REFUSED = new Set(["x-user-defined"]);

/** Labels mail uses that the Encoding Standard does not list. */
const ALIASES = new Map<string, string>([
  ["latin-1", "iso-8859-1"],
  ["utf_8", "utf-8"],
  ["utf8mb4", "utf-8"],
  ["cp-1252", "windows-1252"],
  ["win-1252", "windows-1252"],
  ["iso-8859-8i", "iso-8859-8-i"],
]);

let fatalUtf8: Decoder | null | undefined;
const decoders = new Map<string, Decoder | null>();

function makeDecoder(label: string, fatal: boolean): Decoder | null {
  try {
    return typeof TextDecoder === "function" ? new TextDecoder(label, { fatal }) : null;
  } catch {
    return null;
  }
}

/** A charset name as written (maybe quoted, maybe with an RFC 2231 `*lang`), normalised. */
export function normalizeCharset(charset: string | null | undefined): string {
  if (charset === null || charset === undefined) return "";
  let c = charset.trim().toLowerCase();
  if (c.length >= 2 && c.startsWith('"') && c.endsWith('"')) c = c.slice(1, -1).trim();
  const star = c.indexOf("*");
  if (star !== -1) c = c.slice(0, star);
  return ALIASES.get(c) ?? c;
}

function decoderFor(label: string): Decoder | null {
  if (label.length > 64 || REFUSED.has(label)) return null;
  let d = decoders.get(label);
  if (d === undefined) {
    d = makeDecoder(label, false);
    // "replacement" (iso-2022-kr, hz-gb-2312, ...) would turn the whole text into one U+FFFD.
    if (d !== null && d.encoding === "replacement") d = null;
    if (decoders.size < 512) decoders.set(label, d); // labels come from mail: bound the cache
  }
  return d;
}

/** True when the runtime can decode this charset itself (us-ascii and no label count too). */
export function isKnownCharset(charset: string | null | undefined): boolean {
  const label = normalizeCharset(charset);
  return ASCII_LABELS.has(label) || decoderFor(label) !== null;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** UTF-8 if the octets are valid UTF-8, else latin1. Never throws. */
export function decodeUtf8OrLatin1(bytes: Uint8Array): string {
  fatalUtf8 ??= makeDecoder("utf-8", true);
  if (fatalUtf8 !== null) {
    try {
      return fatalUtf8.decode(bytes);
    } catch {
      /* not UTF-8 */
    }
  }
  return bytesToBinary(bytes);
}

/**
 * Decode octets in the given charset (see the module comment for the fallbacks). Never
 * throws; `strict` makes an unknown charset return null instead of using the fallback.
 */
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined, strict: true): string | null;
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined, strict?: false): string;
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined, strict = false): string | null {
  const label = normalizeCharset(charset);
  if (ASCII_LABELS.has(label)) return decodeUtf8OrLatin1(bytes);
  const d = decoderFor(label);
  if (d === null) return strict ? null : decodeUtf8OrLatin1(bytes);
  if (isAscii(bytes) && d.encoding !== "utf-16le" && d.encoding !== "utf-16be" && d.encoding !== "iso-2022-jp") {
    return decodeUtf8OrLatin1(bytes); // ASCII: every other supported charset is an ASCII superset
  }
  try {
    return d.decode(bytes);
  } catch {
    return strict ? null : decodeUtf8OrLatin1(bytes);
  }
}
