/**
 * Byte helpers shared by the MIME index. Pure: no Node APIs, runs in workerd.
 *
 * Strings produced from message octets use the "binary string" convention of this
 * package: one UTF-16 code unit per octet (latin1), so 0x00..0xFF map to U+0000..U+00FF
 * and the original octets can always be recovered exactly (see {@link binaryToBytes}).
 */

export const CR = 0x0d;
export const LF = 0x0a;

/** Decode `raw[start, end)` one octet per character (latin1). */
export function bytesToBinary(raw: Uint8Array, start = 0, end = raw.length): string {
  let out = "";
  const CHUNK = 8192;
  for (let i = start; i < end; i += CHUNK) {
    const stop = Math.min(end, i + CHUNK);
    out += String.fromCharCode.apply(null, raw.subarray(i, stop) as unknown as number[]);
  }
  return out;
}

/** Inverse of {@link bytesToBinary}. Code units above 0xFF are truncated to their low byte. */
export function binaryToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Number of LF octets in `raw[start, end)`: Dovecot's line count. */
export function countLines(raw: Uint8Array, start: number, end: number): number {
  let n = 0;
  let i = raw.indexOf(LF, start);
  while (i !== -1 && i < end) {
    n++;
    i = raw.indexOf(LF, i + 1);
  }
  return n;
}

/**
 * Line counts of many (possibly nested) ranges of one message in O(log n) each, after a
 * single scan for LF octets.
 */
export class LineCounter {
  private readonly lfs: Uint32Array;
  private readonly count: number;

  constructor(raw: Uint8Array) {
    let lfs = new Uint32Array(1024);
    let count = 0;
    for (let i = raw.indexOf(LF); i !== -1; i = raw.indexOf(LF, i + 1)) {
      if (count === lfs.length) {
        const grown = new Uint32Array(lfs.length * 2);
        grown.set(lfs);
        lfs = grown;
      }
      lfs[count++] = i;
    }
    this.lfs = lfs;
    this.count = count;
  }

  /** Number of LF octets before offset `pos`. */
  private before(pos: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lfs[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Number of LF octets in `[start, end)`. */
  lines(start: number, end: number): number {
    return end <= start ? 0 : this.before(end) - this.before(start);
  }
}

/** ASCII case-insensitive equality. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}
