/**
 * Bounded inflation of report attachments and bodies (gzip, zip), with fflate's streaming
 * decoders. Reports arrive from strangers, so a small input may inflate to gigabytes (a zip or
 * gzip bomb): the input is fed to the decoder in small pieces and inflation stops as soon as the
 * output passes the limit, so at most one piece's worth of output (deflate inflates at most
 * ~1032:1, so ~16 MiB per 16 KiB piece) is ever held beyond it.
 *
 * Callers may rely on: {@link unpack} tells the packaging by its magic bytes (never by a media
 * type or file name, which senders get wrong), returns the inflated octets or the input itself
 * when it is neither gzip nor zip, and throws `too_large` when the output would exceed `limit`
 * and `bad_request` with a reason when the packaging is broken (bad gzip, bad zip, an
 * encrypted or unsupported zip entry, a zip without a file). Of a zip, the first entry named
 * `*.xml` is taken, else the first file.
 */
import { Gunzip, Unzip, UnzipInflate, unzipSync } from "fflate";
import { apiError } from "../errors.ts";

export type Packaging = "gzip" | "zip" | "plain";

/**
 * Compressed octets given to the decoder at a time: bounds the output of one step (see header).
 * Smaller pieces cost fflate more time per octet (4 KiB: about twice as slow).
 */
const PIECE = 16 * 1024;

export function packagingOf(bytes: Uint8Array): Packaging {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return "zip";
  return "plain";
}

export function unpack(bytes: Uint8Array, limit: number): { packaging: Packaging; data: Uint8Array } {
  const packaging = packagingOf(bytes);
  if (packaging === "gzip") return { packaging, data: gunzip(bytes, limit) };
  if (packaging === "zip") return { packaging, data: unzipOne(bytes, limit) };
  if (bytes.byteLength > limit) throw tooLarge(limit);
  return { packaging, data: bytes };
}

export function gunzip(bytes: Uint8Array, limit: number): Uint8Array {
  const out = new Collector(limit);
  const stream = new Gunzip((chunk) => out.add(chunk));
  try {
    for (let at = 0; at < bytes.byteLength; at += PIECE) stream.push(bytes.subarray(at, at + PIECE), false);
    stream.push(new Uint8Array(0), true);
  } catch (err) {
    throw rethrow(err, "gzip");
  }
  return out.bytes();
}

/** Inflates the chosen entry of a zip archive (see the header). */
export function unzipOne(bytes: Uint8Array, limit: number): Uint8Array {
  // First the central directory alone (the filter declines every entry, so nothing is inflated).
  const entries: { name: string; compression: number }[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        if (!f.name.endsWith("/")) entries.push({ name: f.name, compression: f.compression });
        return false;
      },
    });
  } catch (err) {
    throw rethrow(err, "zip");
  }
  const chosen = entries.find((e) => e.name.toLowerCase().endsWith(".xml")) ?? entries[0];
  if (!chosen) throw apiError("bad_request", "The zip archive holds no file");
  if (chosen.compression !== 0 && chosen.compression !== 8) {
    throw apiError("bad_request", `The zip entry ${clip(chosen.name)} uses an unsupported compression method (${chosen.compression})`);
  }

  // Then the entry itself, streamed from its local header, with the same bound as gzip.
  const out = new Collector(limit);
  let found = false;
  let finished = false;
  const unzip = new Unzip((file) => {
    if (found || file.name !== chosen.name) return;
    found = true;
    file.ondata = (err, chunk, final) => {
      if (err) throw err;
      out.add(chunk);
      if (final) finished = true;
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < bytes.byteLength && !finished; at += PIECE) unzip.push(bytes.subarray(at, at + PIECE), false);
    if (!finished) unzip.push(new Uint8Array(0), true);
  } catch (err) {
    throw rethrow(err, "zip");
  }
  if (!finished) throw apiError("bad_request", `The zip entry ${clip(chosen.name)} is truncated or encrypted`);
  return out.bytes();
}

class LimitExceeded extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super("inflated output over the limit");
    this.limit = limit;
  }
}

/** Output chunks, refusing to grow past the limit. */
class Collector {
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(chunk: Uint8Array): void {
    this.#size += chunk.byteLength;
    if (this.#size > this.#limit) throw new LimitExceeded(this.#limit);
    // fflate hands out a fresh array per call (it slices its window), so no copy is needed.
    this.#chunks.push(chunk);
  }

  bytes(): Uint8Array {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    return all;
  }
}

function rethrow(err: unknown, what: "gzip" | "zip"): Error {
  if (err instanceof LimitExceeded) return tooLarge(err.limit);
  // fflate's messages name the fault in the data ("invalid block type", "unexpected EOF"): safe to pass on.
  const detail = err instanceof Error ? err.message : String(err);
  return apiError("bad_request", `The report is not valid ${what}: ${clip(detail)}`);
}

function tooLarge(limit: number): Error {
  return apiError("too_large", `The report inflates beyond ${Math.floor(limit / (1024 * 1024))} MiB`);
}

/** Text from a stranger, fit for one line of an SMTP reply (ASCII, no controls, short). */
export function clip(text: string, max = 120): string {
  const line = text.replace(/[^\x20-\x7e]+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
