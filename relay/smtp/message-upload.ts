/**
 * The steps every message taken in over SMTP goes through before the edge commits it, in one
 * place so MX delivery and submission cannot drift apart: read DATA within the size limit,
 * prepend the trace fields, normalize line endings, index it once (offsets, envelope, search
 * fields) and upload the blob (R2 first: a row never exists without its blob).
 */
import { createHash } from "node:crypto";
import type { SMTPServerDataStream } from "smtp-server";
import type { BlobStored, SearchFields } from "../../common/contract.ts";
import { indexMessage, normalizeLineEndings, type MessageIndex } from "../../common/mime/index.ts";
import { computeSearchFields } from "../../common/mime/search-fields.ts";
import type { EdgeClient } from "../edge/client.ts";

/** Collects the message, or null once it passed the limit (the rest is drained, not kept). */
export async function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  if (stream.sizeExceeded || size > maxBytes) return null;
  return Buffer.concat(chunks, size);
}

export interface UploadedMessage {
  blob: BlobStored;
  index: MessageIndex;
  search: SearchFields;
}

/** Prepends `trace` to what the client sent, indexes the result and uploads it. */
export async function uploadMessage(edge: EdgeClient, trace: string, raw: Buffer): Promise<UploadedMessage> {
  const stored = Buffer.from(normalizeLineEndings(Buffer.concat([Buffer.from(trace, "latin1"), raw])));
  const index = indexMessage(stored);
  const sha256 = createHash("sha256").update(stored).digest("hex");
  const blob = await edge.putBlob(sha256, stored);
  return { blob, index, search: computeSearchFields(stored, index) };
}
