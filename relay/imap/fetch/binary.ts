/**
 * FETCH BINARY (RFC 3516): a body part with its Content-Transfer-Encoding undone, decoded
 * while it streams from the edge. The decoders here give exactly the octets of
 * common/mime/transfer-decoding.ts (which computed BodyPart.decodedSize at ingest), chunk by
 * chunk: base64 carries its partial quantum across chunks, quoted-printable is decoded a
 * whole line at a time (its escapes, soft breaks and trailing-space rule never cross a line).
 *
 * Callers may rely on: `binaryPart` finds parts as BODY[n] does (the same lookup as
 * common/mime/sections.ts); an encoding other than 7bit, 8bit, binary, base64 or
 * quoted-printable is refused before anything is written (`NO [UNKNOWN-CTE]`).
 */
import { findPart } from "../../../common/mime/sections.ts";
import type { MessageIndex } from "../../../common/mime/types.ts";
import { createBase64Decoder, decodeQuotedPrintable, transferKind } from "../../../common/mime/transfer-decoding.ts";
import { ImapProtocolError } from "../protocol/errors.ts";

export type Decoding = "base64" | "quoted-printable" | null;

export interface BinarySource {
  /** Byte range of the encoded octets in the raw message. */
  start: number;
  end: number;
  decoding: Decoding;
  /** Octets after decoding, when known without reading (identity, or decodedSize from ingest). */
  size: number | null;
}

const IDENTITY = new Set(["7bit", "8bit", "binary"]);

/**
 * The encoded range and decoding of `part` ("" = the whole message, never decoded), or null
 * when the part does not exist. Throws NO [UNKNOWN-CTE] for an encoding we cannot undo.
 */
export function binaryPart(index: MessageIndex, part: string): BinarySource | null {
  if (part === "") return { start: 0, end: index.size, decoding: null, size: index.size };
  const found = findPart(index.body, part.split(".").map(Number));
  if (found === null) return null;
  const raw = found.bodyEnd - found.bodyStart;
  // A multipart's body is its children and their delimiters: nothing to decode.
  if (found.parts !== undefined) return { start: found.bodyStart, end: found.bodyEnd, decoding: null, size: raw };
  const encoding = found.encoding.trim().toLowerCase();
  const decoding = transferKind(encoding);
  if (decoding === null && !IDENTITY.has(encoding)) {
    throw new ImapProtocolError("NO", `Unknown Content-Transfer-Encoding ${found.encoding.slice(0, 40)}`, { code: "UNKNOWN-CTE" });
  }
  const size = decoding === null ? raw : (found.decodedSize ?? null);
  return { start: found.bodyStart, end: found.bodyEnd, decoding, size };
}

/** An incremental decoder: `push` each chunk, then `end` once. */
export interface ChunkDecoder {
  push(chunk: Uint8Array): Buffer;
  end(): Buffer;
}

/** base64, from common/mime's decoder (the same rules that computed decodedSize at ingest). */
export function base64Decoder(): ChunkDecoder {
  const decoder = createBase64Decoder();
  return {
    push: (chunk) => Buffer.from(decoder.push(chunk)),
    end: () => Buffer.from(decoder.end()),
  };
}

/** quoted-printable, one complete line at a time (a line's decoding never depends on the next). */
export function quotedPrintableDecoder(): ChunkDecoder {
  let pending: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
      const lastLf = data.lastIndexOf(0x0a);
      if (lastLf < 0) {
        pending = data;
        return Buffer.alloc(0);
      }
      pending = data.subarray(lastLf + 1);
      return Buffer.from(decodeQuotedPrintable(data.subarray(0, lastLf + 1)));
    },
    end() {
      const rest = pending;
      pending = Buffer.alloc(0);
      return Buffer.from(decodeQuotedPrintable(rest));
    },
  };
}

export function decoderFor(decoding: Decoding): ChunkDecoder {
  if (decoding === "base64") return base64Decoder();
  if (decoding === "quoted-printable") return quotedPrintableDecoder();
  return { push: (chunk) => Buffer.from(chunk), end: () => Buffer.alloc(0) };
}

/** Decodes a stream of encoded chunks. */
export async function* decodeStream(source: AsyncIterable<Uint8Array>, decoding: Decoding): AsyncGenerator<Buffer> {
  const decoder = decoderFor(decoding);
  for await (const chunk of source) {
    const out = decoder.push(chunk);
    if (out.length > 0) yield out;
  }
  const tail = decoder.end();
  if (tail.length > 0) yield tail;
}

/** Keeps only octets [offset, offset + length) of a stream. */
export async function* sliceStream(source: AsyncIterable<Buffer>, offset: number, length: number): AsyncGenerator<Buffer> {
  let pos = 0;
  const end = offset + length;
  for await (const chunk of source) {
    const from = Math.max(offset - pos, 0);
    const to = Math.min(end - pos, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos >= end) return;
  }
}
