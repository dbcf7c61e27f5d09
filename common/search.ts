/**
 * The SEARCH criteria the relay sends the edge (RFC 9051 §6.4.4 after the relay resolved
 * everything that depends on the session): sequence sets are already UID ranges, \Recent,
 * NEW and OLD are already UID ranges (the edge does not know which session saw what), SAVED
 * ($) is already expanded. The edge runs the rest as SQL (FTS5 for TEXT and BODY).
 *
 * Text comparisons are case-insensitive substring matches on decoded text (RFC 2047 words,
 * transfer encodings and charsets decoded at ingest; see common/mime/search-fields.ts); the
 * relay case-folds the needle with {@link foldForSearch} exactly as ingest folded the haystack.
 */
import { z } from "zod";

/** `[from, to]`, inclusive, from <= to. */
export const UidRange = z.tuple([z.number().int().min(1), z.number().int().min(1)]);

/** A calendar date, "YYYY-MM-DD"; IMAP compares dates disregarding time and time zone. */
export const SearchDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export type SearchKey =
  | { op: "all" }
  | { op: "none" }
  | { op: "and"; keys: SearchKey[] }
  | { op: "or"; keys: [SearchKey, SearchKey] }
  | { op: "not"; key: SearchKey }
  /** A system flag or keyword being set (`set: true`) or not set. */
  | { op: "flag"; flag: string; set: boolean }
  | { op: "uid"; ranges: [number, number][] }
  /** INTERNALDATE (in UTC) or the Date: header (in its own zone; messages without one have no sent date). */
  | { op: "date"; field: "internal" | "sent"; cmp: "before" | "on" | "since"; date: string }
  | { op: "size"; cmp: "larger" | "smaller"; octets: number }
  /** HEADER field-name string; FROM/TO/CC/BCC/SUBJECT arrive as this. `value: ""` matches presence. */
  | { op: "header"; field: string; value: string }
  | { op: "body"; value: string }
  | { op: "text"; value: string }
  /** CONDSTORE: messages whose mod-sequence is >= modseq. */
  | { op: "modseq"; modseq: number };

export const SearchKey: z.ZodType<SearchKey> = z.lazy(() =>
  z.discriminatedUnion("op", [
    z.object({ op: z.literal("all") }),
    z.object({ op: z.literal("none") }),
    z.object({ op: z.literal("and"), keys: z.array(SearchKey).max(1000) }),
    z.object({ op: z.literal("or"), keys: z.tuple([SearchKey, SearchKey]) }),
    z.object({ op: z.literal("not"), key: SearchKey }),
    z.object({ op: z.literal("flag"), flag: z.string().min(1).max(128), set: z.boolean() }),
    z.object({ op: z.literal("uid"), ranges: z.array(UidRange).max(100_000) }),
    z.object({
      op: z.literal("date"),
      field: z.enum(["internal", "sent"]),
      cmp: z.enum(["before", "on", "since"]),
      date: SearchDate,
    }),
    z.object({ op: z.literal("size"), cmp: z.enum(["larger", "smaller"]), octets: z.number().int().min(0) }),
    z.object({ op: z.literal("header"), field: z.string().min(1).max(200), value: z.string().max(1000) }),
    z.object({ op: z.literal("body"), value: z.string().max(1000) }),
    z.object({ op: z.literal("text"), value: z.string().max(1000) }),
    z.object({ op: z.literal("modseq"), modseq: z.number().int().min(0) }),
  ]),
) as z.ZodType<SearchKey>;

/** SORT keys (RFC 5256 §3); `reverse` applies to the key that follows it. */
export const SortKey = z.object({
  key: z.enum(["arrival", "cc", "date", "from", "size", "subject", "to", "displayfrom", "displayto"]),
  reverse: z.boolean().default(false),
});
export type SortKey = z.input<typeof SortKey>;

/**
 * The one case folding both ingest and search use: Unicode lower case after NFC, so that
 * "KÖLN" finds "Köln" but "koln" does not (no accent folding, as Dovecot).
 */
export function foldForSearch(text: string): string {
  return text.normalize("NFC").toLowerCase();
}
