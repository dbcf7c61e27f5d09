/**
 * `PUT /relay/v1/blobs/:sha256`: the raw message octets, streamed into R2 at `blobs/<sha256>`.
 * The relay uploads first and delivers second (POST deliveries), so the blob is durable before
 * any row can reference it.
 *
 * Callers may rely on: R2 verifies the digest (mismatch → 400, nothing stored); a repeated PUT
 * of the same digest is a cheap no-op returning the same BlobStored; Content-Length is required
 * (R2 needs the length of a streamed body) and above 64 MiB is 413 too_large, before any byte
 * is read.
 */
import { Hono } from "hono";
import { Sha256Hex, type BlobStored } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError } from "../../errors.ts";
import { MAX_BLOB_BYTES, putBlob } from "../../store/blobs.ts";

export const blobRoutes = new Hono<AppEnv>().put("/:sha256", async (c) => {
  const sha = Sha256Hex.safeParse(c.req.param("sha256"));
  if (!sha.success) throw apiError("bad_request", "Blob key must be a lower-case SHA-256 hex digest");
  const lengthHeader = c.req.header("content-length");
  if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) throw apiError("bad_request", "Content-Length required", 411);
  const length = Number(lengthHeader);
  if (length > MAX_BLOB_BYTES) throw apiError("too_large");
  return c.json((await putBlob(c.env.MAIL, sha.data, c.req.raw.body, length)) satisfies BlobStored);
});
