/**
 * Sequence sets (RFC 9051 §9 `sequence-set`): `1,3:5,7:*` and `$` (RFC 5182 SEARCHRES, the
 * saved result of the last SEARCH).
 *
 * A parsed set keeps `*` and `$` symbolic: what they stand for depends on the mailbox at the
 * moment the command runs, and on whether the set holds message sequence numbers or UIDs.
 */
import { ImapProtocolError } from "./errors.ts";

/** A number in a set, or `*`: the largest number in use. */
export type SeqNumber = number | "*";

export type SequenceItem =
  /** `n` (from === to) or `n:m`; the two ends may come in either order. */
  | { kind: "range"; from: SeqNumber; to: SeqNumber }
  /** `$`: the saved search result. */
  | { kind: "saved" };

export interface SequenceSet {
  readonly items: readonly SequenceItem[];
}

const MAX_NUMBER = 0xffff_ffff; // nz-number is a 32-bit unsigned value

function parseSeqNumber(text: string, whole: string): SeqNumber {
  if (text === "*") return "*";
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw invalid(whole);
  const n = Number(text);
  if (n > MAX_NUMBER) throw invalid(whole);
  return n;
}

function invalid(text: string): ImapProtocolError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return new ImapProtocolError("BAD", `Invalid sequence set: ${shown}`);
}

/** Parses `1,3:5,7:*,$`. Throws ImapProtocolError (BAD) on anything else. */
export function parseSequenceSet(text: string): SequenceSet {
  if (text.length === 0) throw invalid(text);
  const items: SequenceItem[] = [];
  for (const part of text.split(",")) {
    if (part === "$") {
      items.push({ kind: "saved" });
      continue;
    }
    const colon = part.indexOf(":");
    if (colon < 0) {
      const n = parseSeqNumber(part, text);
      items.push({ kind: "range", from: n, to: n });
    } else {
      const from = parseSeqNumber(part.slice(0, colon), text);
      const to = parseSeqNumber(part.slice(colon + 1), text);
      items.push({ kind: "range", from, to });
    }
  }
  return { items };
}

/** True when the set refers to the saved search result (`$`). */
export function usesSavedResult(set: SequenceSet): boolean {
  return set.items.some((item) => item.kind === "saved");
}

/** Back to wire form, e.g. for logging or for echoing a set in a response. */
export function stringifySequenceSet(set: SequenceSet): string {
  return set.items
    .map((item) => (item.kind === "saved" ? "$" : item.from === item.to ? `${item.from}` : `${item.from}:${item.to}`))
    .join(",");
}

export interface ExpandOptions {
  /** What `$` stands for, as message sequence numbers; `$` is empty when absent. */
  saved?: readonly number[] | undefined;
  /**
   * RFC 9051 wants a tagged BAD for a message sequence number above the number of messages
   * (including `*` in an empty mailbox); that is the default and what this function throws.
   * With `clamp`, such numbers are dropped silently instead.
   */
  clamp?: boolean | undefined;
}

/**
 * The message sequence numbers a set names in a mailbox of `max` messages, ascending and
 * without duplicates. `*` is `max`.
 */
export function expandSequenceSet(set: SequenceSet, max: number, options: ExpandOptions = {}): number[] {
  const ranges: [number, number][] = [];
  for (const item of set.items) {
    if (item.kind === "saved") {
      for (const n of options.saved ?? []) if (n >= 1 && n <= max) ranges.push([n, n]);
      continue;
    }
    const a = item.from === "*" ? max : item.from;
    const b = item.to === "*" ? max : item.to;
    let lo = Math.min(a, b);
    const hi = Math.min(Math.max(a, b), max);
    if (Math.max(a, b) > max || lo < 1) {
      if (!options.clamp) throw new ImapProtocolError("BAD", "Invalid message sequence number (beyond the last message)");
    }
    lo = Math.max(lo, 1);
    if (lo <= hi) ranges.push([lo, hi]);
  }
  return mergeRanges(ranges);
}

function mergeRanges(ranges: [number, number][]): number[] {
  ranges.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let next = 1; // smallest number not yet emitted
  for (const [lo, hi] of ranges) {
    for (let n = Math.max(lo, next); n <= hi; n++) out.push(n);
    if (hi + 1 > next) next = hi + 1;
  }
  return out;
}

/** Index of the first element >= value in an ascending array. */
function lowerBound(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The UIDs in use (`uids`, ascending) that a UID set names, ascending and without duplicates.
 * `*` is the largest UID in use, so `n:*` with n above it still names that largest UID;
 * UIDs not in use are ignored, never an error (RFC 9051 §6.4.9). `saved` is what `$`
 * stands for, as UIDs.
 */
export function uidsInSet(set: SequenceSet, uids: readonly number[], saved?: readonly number[]): number[] {
  if (uids.length === 0) return [];
  const largest = uids[uids.length - 1] as number;
  const indexRanges: [number, number][] = []; // [first index, last index + 1)
  for (const item of set.items) {
    if (item.kind === "saved") {
      for (const uid of saved ?? []) {
        const i = lowerBound(uids, uid);
        if (uids[i] === uid) indexRanges.push([i, i + 1]);
      }
      continue;
    }
    const a = item.from === "*" ? largest : item.from;
    const b = item.to === "*" ? largest : item.to;
    const start = lowerBound(uids, Math.min(a, b));
    const end = lowerBound(uids, Math.max(a, b) + 1);
    if (start < end) indexRanges.push([start, end]);
  }
  indexRanges.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let next = 0;
  for (const [start, end] of indexRanges) {
    for (let i = Math.max(start, next); i < end; i++) out.push(uids[i] as number);
    if (end > next) next = end;
  }
  return out;
}

/**
 * Compresses numbers into the shortest set form, e.g. [1, 2, 3, 7] → "1:3,7". Unsorted or
 * repeated input is sorted and deduplicated first. An empty list gives "".
 */
export function formatSequenceSet(numbers: readonly number[]): string {
  let sorted = numbers;
  for (let i = 1; i < numbers.length; i++) {
    if ((numbers[i] as number) <= (numbers[i - 1] as number)) {
      sorted = [...new Set(numbers)].sort((x, y) => x - y);
      break;
    }
  }
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      end += 1;
      i += 1;
    }
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    i += 1;
  }
  return parts.join(",");
}
