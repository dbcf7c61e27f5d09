/**
 * MIME index: parse a raw RFC 5322 message once at ingest and keep everything an IMAP
 * server needs later (part offsets, ENVELOPE and BODYSTRUCTURE data) without re-parsing.
 * The results reproduce Dovecot 2.3.19 (see /work/shared/imap-oracle/README.md).
 *
 * Pure TypeScript without Node APIs: it runs in Node and in Cloudflare workerd.
 *
 * STRING CONVENTION: every string taken from message octets (subject, display names,
 * parameter names and values, Content-ID, …) is a *binary string*: one UTF-16 code unit
 * per octet, i.e. the octets decoded as latin1 (U+0000..U+00FF). Raw UTF-8 (052) and raw
 * ISO-8859-1 (053) both survive unchanged this way; convert back with
 * `Buffer.from(s, "latin1")` or {@link binaryToBytes}. Nothing is decoded (no RFC 2047,
 * no RFC 2231 percent-decoding) and field values are not unfolded: the renderers apply
 * Dovecot's own output rules.
 *
 * Input: `indexMessage` expects octets that already went through
 * {@link normalizeLineEndings} (Dovecot serves bare LF as CRLF; offsets and sizes here
 * are those of the normalised octets).
 */

import { parseStructure, toBodyPart } from "./structure.ts";
import { buildEnvelope } from "./envelope.ts";
import { addDecodedSizes } from "./transfer-decoding.ts";
import type { MessageIndex } from "./types.ts";

export type { Address, BodyPart, Envelope, MessageIndex } from "./types.ts";
export { normalizeLineEndings } from "./lines.ts";
export { binaryToBytes, bytesToBinary } from "./bytes.ts";
export { resolveSection, type SectionRange } from "./sections.ts";

/** Index a (normalised) message. Never throws on any input. */
export function indexMessage(raw: Uint8Array): MessageIndex {
  const root = parseStructure(raw);
  const body = toBodyPart(raw, root);
  addDecodedSizes(raw, body);
  return {
    size: raw.length,
    headerSize: root.headerSize,
    envelope: buildEnvelope(root.fields),
    body,
  };
}
