/**
 * Request bodies from strangers (the public endpoints), read with a cap: Content-Length is only a
 * claim, so the stream itself is counted and cancelled the moment it passes the limit.
 *
 * Callers may rely on: the octets of the whole body, or `too_large` (413) with `message` — both
 * when the declared length and when the octets actually sent exceed `limit`.
 */
import { apiError } from "../errors.ts";

export async function readCapped(request: Request, limit: number, message: string): Promise<Uint8Array> {
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw apiError("too_large", message);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw apiError("too_large", message);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
