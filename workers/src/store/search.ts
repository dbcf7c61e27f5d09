/**
 * SEARCH, SORT and THREAD at the edge (DESIGN.md §3): the relay's SearchKey tree
 * (common/search.ts) becomes ONE SQL query over one mailbox, with the FTS5 table for BODY/TEXT.
 *
 * Callers may rely on: every criterion is case-insensitive the way common/search.ts folds text
 * (the needle is folded here again, which changes nothing if the relay already did); header
 * keys match a substring of one of that field's decoded values, an empty value only asks for the
 * field; BODY finds substrings of the decoded text parts; TEXT is BODY or any header value;
 * SENTBEFORE matches a message without a usable Date:, SENTON/SENTSINCE never do; a message
 * stored without search fields matches no text key and sorts as if its sort fields were empty.
 * UIDs come back ascending, or in SORT order with ties by ascending UID (RFC 5256 §3).
 *
 * Why the query looks the way it does: D1 allows 100 bound parameters per statement, so every
 * string of the criteria travels in ONE JSON parameter (?3) and is read back with
 * json_extract(?3, '$[n]') — constant, so SQLite evaluates it once — while integers, validated
 * here, are written into the SQL; AND/OR chains are flattened and nested as balanced trees,
 * because SQLite limits expression depth.
 */
import { and, eq } from "drizzle-orm";
import type { SearchResult, ThreadKeys } from "../../../common/contract.ts";
import { foldForSearch, type SearchKey, type SortKey } from "../../../common/search.ts";
import { apiError } from "../errors.ts";
import { statement, type Db } from "./db.ts";
import { mailboxes } from "./schema.ts";

/** Deeper trees are no real client's search; SQLite would refuse them anyway (expression depth). */
const MAX_DEPTH = 100;
/** D1 refuses statements longer than 100 kB. */
const MAX_SQL_LENGTH = 95_000;
/** Up to this many UID ranges are written into the SQL; more go through json_each. */
const INLINE_UID_RANGES = 20;
const DAY_MS = 86_400_000;

const SORT_COLUMNS: Record<SortKey["key"], string> = {
  arrival: "m.internal_date",
  date: "coalesce(m.sent_at, m.internal_date)",
  size: "m.size",
  // i;ascii-casemap (RFC 5256 §2.1) is SQLite's NOCASE.
  subject: "coalesce(m.sort_subject, '') COLLATE NOCASE",
  from: "coalesce(m.sort_from, '') COLLATE NOCASE",
  to: "coalesce(m.sort_to, '') COLLATE NOCASE",
  cc: "coalesce(m.sort_cc, '') COLLATE NOCASE",
  displayfrom: "coalesce(m.sort_display_from, '') COLLATE NOCASE",
  displayto: "coalesce(m.sort_display_to, '') COLLATE NOCASE",
};

export interface SearchQuery {
  criteria: SearchKey;
  sort?: readonly SortKey[] | undefined;
  threadKeys?: boolean | undefined;
}

interface Row {
  uid: number;
  modseq: number;
  message_id?: string | null;
  in_reply_to?: string | null;
  refs?: string | null;
  subject?: string | null;
  /** 0 or 1 */
  is_reply?: number;
  date?: number;
}

export async function searchMessages(db: Db, accountId: number, mailboxId: number, req: SearchQuery): Promise<SearchResult> {
  const { sql: text, strings } = compileSearch(req);
  const query = db.$client.prepare(text);
  const [mailbox, found] = await db.$client.batch<Row>([
    statement(
      db,
      db
        .select({ id: mailboxes.id })
        .from(mailboxes)
        .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId))),
    ),
    strings.length > 0 ? query.bind(mailboxId, accountId, JSON.stringify(strings)) : query.bind(mailboxId, accountId),
  ]);
  if (mailbox!.results.length === 0) throw apiError("no_such_mailbox");
  const rows = found!.results;
  const result: SearchResult = {
    uids: rows.map((r) => r.uid),
    highestModseq: rows.length > 0 ? Math.max(...rows.map((r) => r.modseq)) : null,
  };
  if (req.threadKeys) {
    result.threadKeys = rows.map(
      (r): ThreadKeys => ({
        uid: r.uid,
        messageId: r.message_id ?? null,
        inReplyTo: r.in_reply_to ?? null,
        references: r.refs ? (JSON.parse(r.refs) as string[]) : [],
        baseSubject: r.subject ?? "",
        isReply: r.is_reply === 1,
        date: r.date!,
      }),
    );
  }
  return result;
}

/** The SQL text (parameters: ?1 mailbox id, ?2 account id, ?3 JSON array of `strings`). Exported for tests of the translation. */
export function compileSearch(req: SearchQuery): { sql: string; strings: string[] } {
  const params = new Params();
  const condition = where(req.criteria, params, 0);
  const columns = ["m.uid AS uid", "m.modseq AS modseq"];
  if (req.threadKeys) {
    columns.push(
      "m.thread_message_id AS message_id",
      "m.thread_in_reply_to AS in_reply_to",
      "m.thread_references AS refs",
      "m.thread_is_reply AS is_reply",
      "m.sort_subject AS subject",
      "coalesce(m.sent_at, m.internal_date) AS date",
    );
  }
  const order = [...(req.sort ?? []).map((k) => `${SORT_COLUMNS[k.key]} ${k.reverse ? "DESC" : "ASC"}`), "m.uid ASC"];
  const text = `SELECT ${columns.join(", ")} FROM messages AS m
    WHERE m.mailbox_id = ?1 AND m.account_id = ?2 AND ${condition}
    ORDER BY ${order.join(", ")}`;
  if (text.length > MAX_SQL_LENGTH) throw apiError("bad_request", "Search criteria too complex");
  return { sql: text, strings: params.strings };
}

/** The strings of one query, deduplicated, each referenced by its position in parameter ?3. */
class Params {
  readonly strings: string[] = [];
  readonly #index = new Map<string, number>();

  text(value: string): string {
    let i = this.#index.get(value);
    if (i === undefined) {
      i = this.strings.push(value) - 1;
      this.#index.set(value, i);
    }
    return `json_extract(?3, '$[${i}]')`;
  }
}

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw apiError("bad_request", "Search number out of range");
  return String(n);
}

function where(key: SearchKey, p: Params, depth: number): string {
  if (depth > MAX_DEPTH) throw apiError("bad_request", "Search criteria nested too deeply");
  const sub = (k: SearchKey) => where(k, p, depth + 1);
  switch (key.op) {
    case "all":
      return "1";
    case "none":
      return "0";
    case "and":
    case "or":
      // IMAP spells "a or b or c" as OR a (OR b c): chains of one operator are flattened first,
      // so only the nesting of different operators counts towards the depth limit.
      return balanced(operands(key, key.op).map(sub), key.op === "and" ? "AND" : "OR", key.op === "and" ? "1" : "0");
    case "not":
      return `(NOT ${sub(key.key)})`;
    case "flag": {
      // Stored system flags have one spelling, but keywords keep the client's case: compare folded.
      const has = `EXISTS (SELECT 1 FROM json_each(m.flags) WHERE lower(value) = ${p.text(key.flag.toLowerCase())})`;
      return key.set ? has : `(NOT ${has})`;
    }
    case "uid":
      return uidIn(key.ranges, p);
    case "date":
      return key.field === "internal" ? internalDate(key.cmp, key.date) : sentDate(key.cmp, p.text(key.date));
    case "size":
      return `m.size ${key.cmp === "larger" ? ">" : "<"} ${int(key.octets)}`;
    case "header": {
      const field = p.text(key.field.toLowerCase());
      if (key.value === "") return `EXISTS (SELECT 1 FROM json_each(m.search_headers) AS h WHERE h.key = ${field})`;
      return `EXISTS (SELECT 1 FROM json_each(m.search_headers) AS h, json_each(h.value) AS v
        WHERE h.key = ${field} AND instr(v.value, ${p.text(foldForSearch(key.value))}) > 0)`;
    }
    case "body":
      return body(key.value, p);
    case "text": {
      if (key.value === "") return "1";
      const anyHeader = `EXISTS (SELECT 1 FROM json_each(m.search_headers) AS h, json_each(h.value) AS v
        WHERE instr(v.value, ${p.text(foldForSearch(key.value))}) > 0)`;
      return `(${body(key.value, p)} OR ${anyHeader})`;
    }
    case "modseq":
      return `m.modseq >= ${int(key.modseq)}`;
  }
}

/** The operands of a chain of `op`, in order, without recursion (chains may be thousands long). */
function operands(key: SearchKey, op: "and" | "or"): SearchKey[] {
  const out: SearchKey[] = [];
  const stack: SearchKey[] = [key];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (k.op === op) for (let i = k.keys.length - 1; i >= 0; i--) stack.push(k.keys[i]!);
    else out.push(k);
  }
  return out;
}

/** `a OP b OP c …` nested as a balanced tree, so 1000 keys are 10 levels deep, not 1000. */
function balanced(terms: readonly string[], op: "AND" | "OR", empty: string): string {
  if (terms.length === 0) return empty;
  if (terms.length === 1) return terms[0]!;
  const mid = Math.ceil(terms.length / 2);
  return `(${balanced(terms.slice(0, mid), op, empty)} ${op} ${balanced(terms.slice(mid), op, empty)})`;
}

function uidIn(ranges: readonly (readonly [number, number])[], p: Params): string {
  const merged = mergeRanges(ranges);
  if (merged.length === 0) return "0";
  const one = ([a, b]: readonly [number, number]) => (a === b ? `m.uid = ${int(a)}` : `m.uid BETWEEN ${int(a)} AND ${int(b)}`);
  if (merged.length <= INLINE_UID_RANGES) return `(${merged.map(one).join(" OR ")})`;
  // The outer BETWEEN lets SQLite use the (mailbox_id, uid) index; json_each then tests the gaps.
  const bounds: [number, number] = [merged[0]![0], merged.at(-1)![1]];
  return `(${one(bounds)} AND EXISTS (SELECT 1 FROM json_each(${p.text(JSON.stringify(merged))}) AS r
    WHERE m.uid BETWEEN r.value ->> 0 AND r.value ->> 1))`;
}

/** Sorted, overlapping and adjacent ranges joined: fewer, and in order. */
export function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = ranges.map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a])).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

/** INTERNALDATE compared by its UTC calendar date, as ms bounds so the column is compared directly. */
function internalDate(cmp: "before" | "on" | "since", date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const start = Date.UTC(y, m - 1, d);
  if (new Date(start).toISOString().slice(0, 10) !== date) throw apiError("bad_request", `Not a calendar date: ${date}`);
  if (cmp === "before") return `m.internal_date < ${int(start)}`;
  if (cmp === "since") return `m.internal_date >= ${int(start)}`;
  return `(m.internal_date >= ${int(start)} AND m.internal_date < ${int(start + DAY_MS)})`;
}

/** The Date: header's own calendar date; a message without one is "before" every date. */
function sentDate(cmp: "before" | "on" | "since", date: string): string {
  if (cmp === "before") return `(m.sent_date IS NULL OR m.sent_date < ${date})`;
  return `(m.sent_date IS NOT NULL AND m.sent_date ${cmp === "on" ? "=" : ">="} ${date})`;
}

/**
 * BODY: the trigram index finds substrings of 3 characters or more (a quoted FTS5 phrase of the
 * needle's trigrams); shorter needles cannot use it, so they are a LIKE on this message's text row.
 */
function body(value: string, p: Params): string {
  const needle = foldForSearch(value);
  if (needle === "") return "1";
  if ([...needle].length >= 3) {
    return `m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ${p.text(`"${needle.replaceAll('"', '""')}"`)})`;
  }
  const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return `EXISTS (SELECT 1 FROM messages_fts AS f WHERE f.rowid = m.id AND f.body LIKE ${p.text(pattern)} ESCAPE '\\')`;
}
