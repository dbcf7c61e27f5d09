/**
 * Raw messages in R2, content-addressed: the object for a message whose SHA-256 is `h` is
 * `blobs/h`. D1 stores that full key in `messages.blob_key`.
 *
 * Callers may rely on: `putBlob` lets R2 verify the SHA-256 (a mismatch stores nothing and is
 * `bad_request`), and is idempotent; a blob is never deleted here, so a row never loses its
 * blob; `listOrphans` reports blobs no message and no outbound submission references — the garbage a delivery leaves when
 * it fails after the upload, and also (briefly) the blob of a delivery still in flight, so a
 * collector must only delete orphans older than any delivery can take.
 */
import { sql } from "drizzle-orm";
import type { BlobStored, OrphanBlobList } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, type Db } from "./db.ts";
import { messages, outboundSubmissions } from "./schema.ts";

export const BLOB_PREFIX = "blobs/";
/** Larger than any message the relay accepts (its SIZE limit), small enough for one R2 put. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

export function blobKey(sha256: string): string {
  return `${BLOB_PREFIX}${sha256}`;
}

export async function putBlob(
  bucket: R2Bucket,
  sha256: string,
  body: ReadableStream | Uint8Array | null,
  contentLength: number,
): Promise<BlobStored> {
  const key = blobKey(sha256);
  // Content-addressed and verified on the way in: an existing object already has these bytes.
  const existing = await bucket.head(key);
  if (existing) {
    if (body instanceof ReadableStream) await body.cancel();
    return { key: sha256, size: existing.size };
  }
  let stored: R2Object | null;
  try {
    stored = await bucket.put(key, body ?? new Uint8Array(0), {
      sha256,
      customMetadata: { uploadedAt: new Date().toISOString() },
      httpMetadata: { contentType: "message/rfc822" },
    });
  } catch (err) {
    // R2 reports a digest mismatch as error 10037 ("The SHA-256 checksum you specified did not match").
    if (/\(10037\)|checksum .*did not match/i.test(String(err))) throw apiError("bad_request", "Body does not match its SHA-256");
    throw err;
  }
  if (!stored) throw apiError("internal");
  if (stored.size !== contentLength) console.warn("edge: blob size differs from Content-Length", key, stored.size, contentLength);
  return { key: sha256, size: stored.size };
}

export async function listOrphans(db: Db, bucket: R2Bucket): Promise<OrphanBlobList> {
  const orphans: OrphanBlobList["orphans"] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: BLOB_PREFIX, limit: 1000, ...(cursor ? { cursor } : {}) });
    if (page.objects.length > 0) {
      const keys = page.objects.map((o) => o.key);
      const referenced = await db
        .selectDistinct({ blobKey: messages.blobKey })
        .from(messages)
        .where(sql`${messages.blobKey} IN (SELECT value FROM json_each(${jsonList(keys)}))`);
      // A queued submission holds its blob too, even before (or without) any local copy.
      const queued = await db
        .selectDistinct({ blobKey: outboundSubmissions.blobKey })
        .from(outboundSubmissions)
        .where(sql`${outboundSubmissions.blobKey} IN (SELECT value FROM json_each(${jsonList(keys)}))`);
      const used = new Set([...referenced, ...queued].map((r) => r.blobKey));
      for (const o of page.objects) {
        if (!used.has(o.key)) orphans.push({ key: o.key, size: o.size, uploaded: o.uploaded.toISOString() });
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { orphans };
}

/** A parsed `Range: bytes=…` header: one range only (IMAP partial fetches never need more). */
export type ByteRange = { offset: number; length: number };

/**
 * null: no (usable) Range header, serve everything. "unsatisfiable": the range starts past the
 * end. Multi-range and malformed headers are ignored, as RFC 9110 §14.2 permits.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Math.min(Number(m[2]), size);
    return suffix === 0 ? "unsatisfiable" : { offset: size - suffix, length: suffix };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return null;
  return { offset: start, length: end - start + 1 };
}
