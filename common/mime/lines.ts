/**
 * Line-ending normalisation. Dovecot stores bare LF as is but serves every section,
 * RFC822.SIZE and LARGER/SMALLER as if each bare LF were CRLF. Normalising once at ingest
 * gives the same bytes and sizes. A bare CR is left alone (Dovecot passes it through).
 */

import { CR, LF } from "./bytes.ts";

/** Bare LF -> CRLF; bare CR kept. Returns `raw` itself when there is nothing to change. */
export function normalizeLineEndings(raw: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = raw.indexOf(LF); i !== -1; i = raw.indexOf(LF, i + 1)) {
    if (i === 0 || raw[i - 1] !== CR) bare++;
  }
  if (bare === 0) return raw;
  const out = new Uint8Array(raw.length + bare);
  let o = 0;
  let from = 0;
  for (let i = raw.indexOf(LF); i !== -1; i = raw.indexOf(LF, i + 1)) {
    if (i === 0 || raw[i - 1] !== CR) {
      out.set(raw.subarray(from, i), o);
      o += i - from;
      out[o++] = CR;
      from = i; // the LF itself is copied with the next chunk
    }
  }
  out.set(raw.subarray(from), o);
  return out;
}
