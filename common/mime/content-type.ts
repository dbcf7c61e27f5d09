/**
 * Content-Type / Content-Disposition / Content-Language / Content-Transfer-Encoding
 * parsing, as Dovecot 2.3 does it (message-part-data.c, rfc2231-parser.c).
 *
 * Parameters come back in header order, duplicates kept, names and values in the case
 * they were written. RFC 2231 continuations are merged the Dovecot way: `name*0`,
 * `name*1`… become one `name` (or `name*` when any piece is extended), the
 * `charset'lang'%XX` form is left undecoded, and when the indexes do not form a clean
 * 0..n sequence the pieces are passed through renamed `name*<n>[*]`, sorted by name.
 * A syntax error skips octets until the next `;` (so a value-less parameter is lost
 * together with everything up to the next `;`).
 */

import { Acc, Rfc822Parser } from "./rfc822.ts";

export type Params = [string, string][];

interface Rfc2231Piece {
  key: string;
  value: string;
  idx: number;
  extended: boolean;
}

function rfc2231Escape(value: string): string {
  return value.replace(/%/g, "%25");
}

/** Read every `; key=value` parameter from the parser's position (rfc2231_parse). */
export function parseParams(parser: Rfc822Parser): Params {
  const result: Params = [];
  const pieces: Rfc2231Piece[] = [];
  const kv = { key: "", value: "" };
  // Dovecot reuses one struct, so an index is inherited by a later bare "name*".
  let idx = 0;
  for (;;) {
    const ret = parser.parseContentParam(kv);
    if (ret === 0) break;
    if (ret < 0) {
      if (parser.pos >= parser.end) break;
      parser.pos++;
      continue;
    }
    const key = kv.key;
    const star = key.indexOf("*");
    let plain = star === -1;
    if (!plain) {
      let p = star;
      if (p + 1 < key.length) {
        p++;
        idx = 0;
        while (p < key.length && key.charCodeAt(p) >= 0x30 && key.charCodeAt(p) <= 0x39) {
          idx = idx * 10 + (key.charCodeAt(p) - 0x30);
          p++;
        }
      }
      let extended = false;
      if (key[p] === "*") {
        extended = true;
        p++;
      }
      if (p < key.length) {
        plain = true;
      } else {
        pieces.push({ key: key.slice(0, star), value: kv.value, idx, extended });
      }
    }
    if (plain) result.push([key, kv.value]);
  }
  if (pieces.length === 0) return result;

  // Sort by name (case-sensitive), then index; Array.prototype.sort is stable.
  pieces.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.idx - b.idx));
  for (let i = 0; i < pieces.length; ) {
    const first = pieces[i]!;
    const lower = first.key.toLowerCase();
    let ok = true;
    let haveExtended = false;
    let nextIdx = 0;
    let j = i;
    for (; j < pieces.length; j++) {
      const piece = pieces[j]!;
      if (piece.key.toLowerCase() !== lower) break;
      if (piece.idx !== nextIdx) ok = false;
      if (piece.extended) haveExtended = true;
      nextIdx++;
    }
    if (!ok) {
      for (let k = i; k < j; k++) {
        const piece = pieces[k]!;
        result.push([`${piece.key}*${piece.idx}${piece.extended ? "*" : ""}`, piece.value]);
      }
    } else {
      let value = !first.extended && haveExtended ? "''" : "";
      for (let k = i; k < j; k++) {
        const piece = pieces[k]!;
        value += !piece.extended && haveExtended ? rfc2231Escape(piece.value) : piece.value;
      }
      result.push([haveExtended ? `${first.key}*` : first.key, value]);
    }
    i = j;
  }
  return result;
}

export interface ContentType {
  /** What could be read before any error, e.g. "text/plain" or "invalid-no-slash". */
  raw: string;
  /** False when the value could not be parsed; parameters are then not read. */
  ok: boolean;
  type: string;
  subtype: string;
  params: Params;
}

/**
 * Parse a Content-Type value. Without a `/` the type and subtype are both "" (Dovecot
 * 2.3.19 shows such a part as `"" ""`).
 */
export function parseContentType(value: string): ContentType {
  const parser = new Rfc822Parser(value);
  parser.skipLwsp();
  const acc = new Acc();
  const ret = parser.parseContentType(acc);
  const slash = acc.v.indexOf("/");
  const type = slash === -1 ? "" : acc.v.slice(0, slash);
  const subtype = slash === -1 ? "" : acc.v.slice(slash + 1);
  if (ret < 0) return { raw: acc.v, ok: false, type, subtype, params: [] };
  return { raw: acc.v, ok: true, type, subtype, params: parseParams(parser) };
}

export interface ContentDisposition {
  type: string;
  params: Params;
}

export function parseContentDisposition(value: string): ContentDisposition | null {
  const parser = new Rfc822Parser(value);
  parser.skipLwsp();
  const acc = new Acc();
  if (parser.parseMimeToken(acc) < 0) return null;
  return { type: acc.v, params: parseParams(parser) };
}

/** Content-Language: a comma separated list of atoms. Null when there is none. */
export function parseContentLanguage(value: string): string[] | null {
  const parser = new Rfc822Parser(value);
  const langs: string[] = [];
  parser.skipLwsp();
  for (;;) {
    const acc = new Acc();
    if (parser.parseAtom(acc) < 0) break;
    langs.push(acc.v);
    if (parser.pos >= parser.end || parser.cur() !== 0x2c) break;
    parser.pos++;
    parser.skipLwsp();
  }
  return langs.length > 0 ? langs : null;
}

/** Content-Transfer-Encoding: a single token (comments allowed), else null. */
export function parseTransferEncoding(value: string): string | null {
  const parser = new Rfc822Parser(value);
  parser.skipLwsp();
  const acc = new Acc();
  if (parser.parseMimeToken(acc) >= 0 && parser.skipLwsp() === 0 && acc.v.length > 0) return acc.v;
  return null;
}
