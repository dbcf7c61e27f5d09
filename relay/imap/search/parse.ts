/**
 * IMAP SEARCH syntax (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 7162 §3.1.5 MODSEQ, RFC 5182 `$`)
 * into the SearchKey AST the edge executes (common/search.ts).
 *
 * Everything that depends on the session is resolved here, so the edge never needs to know
 * which session saw what: message sequence numbers become UID ranges, `*` becomes the largest
 * UID or sequence number in the view, \Recent (RECENT, NEW, OLD) becomes the UIDs this session
 * holds as recent, `$` becomes the saved result. Text needles are folded with foldForSearch,
 * exactly as ingest folded the haystack; header names go lower case.
 *
 * Failures are ImapProtocolError: BAD for syntax, NO [BADCHARSET (UTF-8 US-ASCII)] for a
 * charset we do not search in.
 */
import { foldForSearch, type SearchKey } from "../../../common/search.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Token } from "../protocol/parser.ts";
import { expandSequenceSet, parseSequenceSet, type SequenceSet } from "../protocol/sequence-set.ts";

/** What the parser needs of the session's view of the selected mailbox. */
export interface SearchContext {
  /** UID of each message, index = sequence number - 1 (ascending). */
  readonly uids: readonly number[];
  /** UIDs \Recent to this session. */
  readonly recent: readonly number[];
  /** The saved search result `$` (RFC 5182), as UIDs. */
  readonly saved: readonly number[];
}

export const SUPPORTED_CHARSETS = ["UTF-8", "US-ASCII"] as const;

export type ReturnOption = "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE";

export interface ParsedSearch {
  /** `RETURN (...)` options (RFC 4731), null when the command had none. `RETURN ()` is ALL. */
  returnOptions: Set<ReturnOption> | null;
  criteria: SearchKey;
  /** The MODSEQ key was used: CONDSTORE turns on and results carry MODSEQ (RFC 7162 §3.1.5). */
  modseq: boolean;
}

export interface ParseOptions {
  /** SEARCH may carry `RETURN (...)`; SORT and THREAD may not. */
  allowReturn?: boolean;
  /** SORT and THREAD name the charset before the criteria (it is then already read). */
  charsetGiven?: boolean;
}

const MAX_VALUE_LENGTH = 1000;
const utf8 = new TextDecoder("utf-8");

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

const HEADER_KEYS: Record<string, string> = { BCC: "bcc", CC: "cc", FROM: "from", SUBJECT: "subject", TO: "to" };

const DATE_KEYS: Record<string, ["internal" | "sent", "before" | "on" | "since"]> = {
  BEFORE: ["internal", "before"],
  ON: ["internal", "on"],
  SINCE: ["internal", "since"],
  SENTBEFORE: ["sent", "before"],
  SENTON: ["sent", "on"],
  SENTSINCE: ["sent", "since"],
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function bad(text: string): ImapProtocolError {
  return new ImapProtocolError("BAD", text);
}

/** Checks a charset name: UTF-8 and US-ASCII only (RFC 9051 §6.4.4 requires both). */
export function checkCharset(name: string): void {
  if (!SUPPORTED_CHARSETS.includes(name.toUpperCase() as (typeof SUPPORTED_CHARSETS)[number])) {
    throw new ImapProtocolError("NO", "Unsupported charset", { code: `BADCHARSET (${SUPPORTED_CHARSETS.join(" ")})` });
  }
}

/** A token's text (atom or string), for a charset name or a needle. */
function tokenText(token: Token | undefined, what: string): string {
  if (token?.type === "atom") return token.value;
  if (token?.type === "nil") return token.raw ?? "NIL";
  if (token?.type === "string") return utf8.decode(token.value);
  throw bad(`Expected ${what}`);
}

class Cursor {
  readonly #tokens: readonly Token[];
  #i = 0;
  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }
  get done(): boolean {
    return this.#i >= this.#tokens.length;
  }
  peek(): Token | undefined {
    return this.#tokens[this.#i];
  }
  next(what: string): Token {
    const t = this.#tokens[this.#i++];
    if (t === undefined) throw bad(`Missing ${what} in SEARCH`);
    return t;
  }
  atomUpper(): string | null {
    const t = this.peek();
    return t?.type === "atom" ? t.value.toUpperCase() : null;
  }
}

/** Parses a whole search program: `[RETURN (...)] [CHARSET x] key *(SP key)`. */
export function parseSearch(tokens: readonly Token[], ctx: SearchContext, options: ParseOptions = {}): ParsedSearch {
  const cur = new Cursor(tokens);
  let returnOptions: Set<ReturnOption> | null = null;
  if (options.allowReturn && cur.atomUpper() === "RETURN") {
    cur.next("RETURN");
    const list = cur.next("return options");
    if (list.type !== "list") throw bad("RETURN needs a parenthesized list");
    returnOptions = parseReturnOptions(list.items);
  }
  if (!options.charsetGiven && cur.atomUpper() === "CHARSET") {
    cur.next("CHARSET");
    checkCharset(tokenText(cur.next("charset"), "a charset"));
  }
  const state = { modseq: false };
  const keys: SearchKey[] = [];
  while (!cur.done) keys.push(parseKey(cur, ctx, state, 0));
  if (keys.length === 0) throw bad("Missing search criteria");
  return { returnOptions, criteria: and(keys), modseq: state.modseq };
}

/** RFC 4731 return options; an empty list means ALL. */
export function parseReturnOptions(items: readonly Token[]): Set<ReturnOption> {
  const options = new Set<ReturnOption>();
  for (const item of items) {
    const name = item.type === "atom" ? item.value.toUpperCase() : "";
    if (name !== "MIN" && name !== "MAX" && name !== "ALL" && name !== "COUNT" && name !== "SAVE") {
      throw bad("Unknown SEARCH return option");
    }
    options.add(name);
  }
  if (options.size === 0) options.add("ALL");
  return options;
}

function and(keys: SearchKey[]): SearchKey {
  const flat: SearchKey[] = [];
  for (const k of keys) {
    if (k.op === "and") flat.push(...k.keys);
    else if (k.op !== "all") flat.push(k);
  }
  if (flat.length === 0) return { op: "all" };
  if (flat.length === 1) return flat[0]!;
  return { op: "and", keys: flat };
}

const MAX_DEPTH = 64;

function parseKey(cur: Cursor, ctx: SearchContext, state: { modseq: boolean }, depth: number): SearchKey {
  if (depth > MAX_DEPTH) throw bad("Search criteria nested too deeply");
  const token = cur.next("search key");
  if (token.type === "list") {
    if (token.items.length === 0) throw bad("Empty search key list");
    const inner = new Cursor(token.items);
    const keys: SearchKey[] = [];
    while (!inner.done) keys.push(parseKey(inner, ctx, state, depth + 1));
    return and(keys);
  }
  if (token.type !== "atom") throw bad("Invalid search key");
  const name = token.value.toUpperCase();
  const flag = FLAG_KEYS[name];
  if (flag) return { op: "flag", flag: flag[0], set: flag[1] };
  const header = HEADER_KEYS[name];
  if (header) return { op: "header", field: header, value: needle(cur) };
  const date = DATE_KEYS[name];
  if (date) return { op: "date", field: date[0], cmp: date[1], date: searchDate(cur.next("date")) };
  switch (name) {
    case "ALL":
      return { op: "all" };
    case "RECENT":
      return uidKey(ctx.recent);
    case "NEW":
      return and([uidKey(ctx.recent), { op: "flag", flag: "\\Seen", set: false }]);
    case "OLD":
      return { op: "not", key: uidKey(ctx.recent) };
    case "BODY":
      return { op: "body", value: needle(cur) };
    case "TEXT":
      return { op: "text", value: needle(cur) };
    case "HEADER": {
      const field = tokenText(cur.next("header field name"), "a header field name").trim().toLowerCase();
      if (field.length === 0 || field.length > 200 || /[\x00-\x20\x7f-\uffff:]/.test(field)) throw bad("Invalid header field name");
      return { op: "header", field, value: needle(cur) };
    }
    case "KEYWORD":
    case "UNKEYWORD": {
      const k = cur.next("keyword");
      if (k.type !== "atom" || k.value.startsWith("\\") || !/^[!#$&'+-[^-z|~]{1,128}$/.test(k.value)) throw bad("Invalid keyword");
      return { op: "flag", flag: k.value, set: name === "KEYWORD" };
    }
    case "LARGER":
    case "SMALLER": {
      const n = cur.next("number");
      if (n.type !== "atom" || !/^[0-9]{1,10}$/.test(n.value) || Number(n.value) > 0xffff_ffff) throw bad(`${name} needs a number`);
      return { op: "size", cmp: name === "LARGER" ? "larger" : "smaller", octets: Number(n.value) };
    }
    case "NOT":
      return { op: "not", key: parseKey(cur, ctx, state, depth + 1) };
    case "OR": {
      const a = parseKey(cur, ctx, state, depth + 1);
      const b = parseKey(cur, ctx, state, depth + 1);
      return { op: "or", keys: [a, b] };
    }
    case "UID": {
      const t = cur.next("UID set");
      if (t.type !== "atom") throw bad("UID needs a set");
      return uidSetKey(sequenceSet(t.value), ctx);
    }
    case "MODSEQ": {
      // MODSEQ [entry-name entry-type-req] mod-sequence-valzer; per-flag entries are accepted and
      // treated as the message's MODSEQ (we keep one per message, RFC 7162 §3.1.5 allows it).
      let t = cur.next("mod-sequence");
      if (t.type === "string") {
        const type = cur.next("entry type");
        if (type.type !== "atom" || !["PRIV", "SHARED", "ALL"].includes(type.value.toUpperCase())) throw bad("Invalid MODSEQ entry type");
        t = cur.next("mod-sequence");
      }
      if (t.type !== "atom" || !/^[0-9]{1,19}$/.test(t.value) || !Number.isSafeInteger(Number(t.value))) throw bad("Invalid mod-sequence");
      state.modseq = true;
      return { op: "modseq", modseq: Number(t.value) };
    }
  }
  if (/^[0-9*$:,]+$/.test(name)) return seqSetKey(sequenceSet(token.value), ctx);
  throw bad(`Unknown search key ${token.value.slice(0, 30)}`);
}

function sequenceSet(text: string): SequenceSet {
  try {
    return parseSequenceSet(text);
  } catch {
    throw bad(`Invalid sequence set ${text.slice(0, 30)}`);
  }
}

function needle(cur: Cursor): string {
  const token = cur.next("search string");
  if (token.type === "list") throw bad("Expected a search string");
  const value = foldForSearch(tokenText(token, "a search string"));
  if (value.length > MAX_VALUE_LENGTH) throw bad("Search string too long");
  return value;
}

/** `1-Jan-2026` (quoted or not) as "2026-01-01". */
export function searchDate(token: Token): string {
  const text = token.type === "atom" || token.type === "string" ? tokenText(token, "a date") : "";
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) throw bad("Invalid date");
  const day = Number(m[1]);
  const year = Number(m[3]);
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) throw bad("Invalid date");
  return `${m[3]}-${String(month + 1).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** UIDs (any order, duplicates allowed) as the fewest inclusive ranges. */
export function toRanges(uids: readonly number[]): [number, number][] {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const uid of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && uid === last[1] + 1) last[1] = uid;
    else ranges.push([uid, uid]);
  }
  return ranges;
}

function uidKey(uids: readonly number[]): SearchKey {
  const ranges = toRanges(uids);
  return ranges.length === 0 ? { op: "none" } : { op: "uid", ranges };
}

/** Message sequence numbers: out-of-range numbers match nothing (as Dovecot; SEARCH is lenient). */
function seqSetKey(set: SequenceSet, ctx: SearchContext): SearchKey {
  const saved: number[] = [];
  if (set.items.some((i) => i.kind === "saved")) {
    const seqOf = new Map(ctx.uids.map((uid, i) => [uid, i + 1]));
    for (const uid of ctx.saved) {
      const seq = seqOf.get(uid);
      if (seq !== undefined) saved.push(seq);
    }
  }
  const seqs = expandSequenceSet(set, ctx.uids.length, { clamp: true, saved });
  return uidKey(seqs.map((seq) => ctx.uids[seq - 1]!));
}

/** UID sets: `*` is the largest UID in the view; UIDs not in use simply match nothing. */
function uidSetKey(set: SequenceSet, ctx: SearchContext): SearchKey {
  const largest = ctx.uids.length > 0 ? ctx.uids[ctx.uids.length - 1]! : 0;
  const ranges: [number, number][] = [];
  for (const item of set.items) {
    if (item.kind === "saved") {
      ranges.push(...toRanges(ctx.saved));
      continue;
    }
    if ((item.from === "*" || item.to === "*") && largest === 0) continue;
    const a = item.from === "*" ? largest : item.from;
    const b = item.to === "*" ? largest : item.to;
    ranges.push([Math.min(a, b), Math.max(a, b)]);
  }
  return ranges.length === 0 ? { op: "none" } : { op: "uid", ranges: mergeRanges(ranges) };
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
