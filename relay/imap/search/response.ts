/**
 * The answers to SEARCH: the classic `* SEARCH 2 3 5 (MODSEQ n)` (RFC 9051 §7.3.6, RFC 7162
 * §3.1.5) and ESEARCH (RFC 4731) — `* ESEARCH (TAG "A1") UID MIN 2 MAX 5 ALL 2:3,5 COUNT 3` —
 * and what `SAVE` keeps as `$` (RFC 5182 §2.4). Pure functions over the matching numbers
 * (sequence numbers or UIDs, ascending), so they are tested as tables.
 */
import { formatSequenceSet } from "../protocol/sequence-set.ts";
import type { ReturnOption } from "./parse.ts";

/** `* SEARCH ...`; MODSEQ only when the MODSEQ key was used and something matched. */
export function searchResponse(numbers: readonly number[], modseq: number | null): string {
  let line = "* SEARCH";
  if (numbers.length > 0) line += ` ${numbers.join(" ")}`;
  if (modseq !== null && numbers.length > 0) line += ` (MODSEQ ${modseq})`;
  return `${line}\r\n`;
}

/**
 * `* ESEARCH (TAG "t") [UID] ...`, with the requested data in the order MIN MAX ALL COUNT
 * MODSEQ (Dovecot's). MIN, MAX and ALL are left out when nothing matched; COUNT is always
 * given when asked. SAVE alone gets no ESEARCH response at all (RFC 5182 §2.1): null.
 */
export function esearchResponse(
  tag: string,
  byUid: boolean,
  options: ReadonlySet<ReturnOption>,
  numbers: readonly number[],
  modseq: number | null,
): string | null {
  if (options.size === 1 && options.has("SAVE")) return null;
  let line = `* ESEARCH (TAG "${tag}")`;
  if (byUid) line += " UID";
  if (numbers.length > 0) {
    if (options.has("MIN")) line += ` MIN ${numbers[0]}`;
    if (options.has("MAX")) line += ` MAX ${numbers[numbers.length - 1]}`;
    if (options.has("ALL")) line += ` ALL ${formatSequenceSet(numbers)}`;
  }
  if (options.has("COUNT")) line += ` COUNT ${numbers.length}`;
  if (modseq !== null && numbers.length > 0) line += ` MODSEQ ${modseq}`;
  return `${line}\r\n`;
}

/**
 * What `RETURN (SAVE ...)` keeps: with MIN and/or MAX but neither ALL nor COUNT, only those
 * messages (RFC 5182 §2.4); otherwise every match. `matches` are UIDs, ascending.
 */
export function savedResult(options: ReadonlySet<ReturnOption>, matches: readonly number[]): number[] {
  if (matches.length === 0) return [];
  if ((options.has("MIN") || options.has("MAX")) && !options.has("ALL") && !options.has("COUNT")) {
    const kept = new Set<number>();
    if (options.has("MIN")) kept.add(matches[0]!);
    if (options.has("MAX")) kept.add(matches[matches.length - 1]!);
    return [...kept].sort((a, b) => a - b);
  }
  return [...matches];
}
