/**
 * IMAP SEARCH syntax into the edge's SearchKey AST, as tables: what each key becomes, how
 * sequence sets, `*`, `$` and \Recent are resolved against the session's view, and what is
 * refused (BAD for syntax, NO [BADCHARSET] for a charset we do not search in).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SearchKey } from "../../common/search.ts";
import { parseCommand } from "../../relay/imap/protocol/parser.ts";
import { parseSearch, toRanges, type SearchContext } from "../../relay/imap/search/parse.ts";

/** Ten messages with UIDs 3, 5..12, 20; UIDs 5 and 20 are recent; `$` holds 6 and 9. */
const ctx: SearchContext = { uids: [3, 5, 6, 7, 8, 9, 10, 11, 12, 20], recent: [5, 20], saved: [6, 9] };

function parse(criteria: string, context: SearchContext = ctx, allowReturn = true) {
  const { args } = parseCommand(Buffer.from(`A1 SEARCH ${criteria}`, "utf8"));
  return parseSearch(args, context, { allowReturn });
}

function key(criteria: string): SearchKey {
  return parse(criteria).criteria;
}

describe("SEARCH keys", () => {
  const table: [string, SearchKey][] = [
    ["ALL", { op: "all" }],
    ["SEEN", { op: "flag", flag: "\\Seen", set: true }],
    ["UNSEEN", { op: "flag", flag: "\\Seen", set: false }],
    ["answered", { op: "flag", flag: "\\Answered", set: true }],
    ["UNDRAFT", { op: "flag", flag: "\\Draft", set: false }],
    ["KEYWORD $Important", { op: "flag", flag: "$Important", set: true }],
    ["UNKEYWORD $Junk", { op: "flag", flag: "$Junk", set: false }],
    ['FROM "Alice"', { op: "header", field: "from", value: "alice" }],
    ["SUBJECT \"Köln\"", { op: "header", field: "subject", value: "köln" }],
    ['CC ""', { op: "header", field: "cc", value: "" }],
    ['HEADER Content-Type "MULTIPART"', { op: "header", field: "content-type", value: "multipart" }],
    ['HEADER X-Long-Line ""', { op: "header", field: "x-long-line", value: "" }],
    ["BODY quokkaberry", { op: "body", value: "quokkaberry" }],
    ['TEXT "Zebra Corn"', { op: "text", value: "zebra corn" }],
    ["BEFORE 1-Jan-2026", { op: "date", field: "internal", cmp: "before", date: "2026-01-01" }],
    ['SINCE "12-Feb-2026"', { op: "date", field: "internal", cmp: "since", date: "2026-02-12" }],
    ["ON 29-Feb-2024", { op: "date", field: "internal", cmp: "on", date: "2024-02-29" }],
    ["SENTON 1-jan-2026", { op: "date", field: "sent", cmp: "on", date: "2026-01-01" }],
    ["SENTBEFORE 3-Jan-2026", { op: "date", field: "sent", cmp: "before", date: "2026-01-03" }],
    ["SENTSINCE 12-Jan-2026", { op: "date", field: "sent", cmp: "since", date: "2026-01-12" }],
    ["LARGER 10000", { op: "size", cmp: "larger", octets: 10000 }],
    ["SMALLER 500", { op: "size", cmp: "smaller", octets: 500 }],
    ["NOT DELETED", { op: "not", key: { op: "flag", flag: "\\Deleted", set: true } }],
    [
      'OR SUBJECT "encoded" FROM "carol"',
      { op: "or", keys: [{ op: "header", field: "subject", value: "encoded" }, { op: "header", field: "from", value: "carol" }] },
    ],
    [
      "UNFLAGGED SMALLER 300",
      { op: "and", keys: [{ op: "flag", flag: "\\Flagged", set: false }, { op: "size", cmp: "smaller", octets: 300 }] },
    ],
    ["(SEEN (FLAGGED))", { op: "and", keys: [{ op: "flag", flag: "\\Seen", set: true }, { op: "flag", flag: "\\Flagged", set: true }] }],
    ["ALL SEEN", { op: "flag", flag: "\\Seen", set: true }],
    ["MODSEQ 620162338", { op: "modseq", modseq: 620162338 }],
    ['MODSEQ "/flags/\\\\draft" all 620162338', { op: "modseq", modseq: 620162338 }],
  ];
  for (const [criteria, expected] of table) {
    it(`${criteria}`, () => assert.deepEqual(key(criteria), expected));
  }

  it("marks the MODSEQ key so CONDSTORE turns on", () => {
    assert.equal(parse("MODSEQ 5").modseq, true);
    assert.equal(parse("ALL").modseq, false);
  });

  it("reads a literal search string as UTF-8 under CHARSET UTF-8", () => {
    const { args } = parseCommand(Buffer.from("A1 UID SEARCH CHARSET UTF-8 SUBJECT {5}\r\nKöln", "utf8"));
    assert.deepEqual(parseSearch(args, ctx).criteria, { op: "header", field: "subject", value: "köln" });
  });
});

describe("SEARCH: what depends on the session", () => {
  const table: [string, SearchKey][] = [
    // message sequence numbers become the UIDs at those positions
    ["1", { op: "uid", ranges: [[3, 3]] }],
    ["2:4", { op: "uid", ranges: [[5, 7]] }],
    ["9:*", { op: "uid", ranges: [[12, 12], [20, 20]] }],
    ["*", { op: "uid", ranges: [[20, 20]] }],
    ["1,3,10", { op: "uid", ranges: [[3, 3], [6, 6], [20, 20]] }],
    // out of range numbers are dropped, not an error
    ["10:20", { op: "uid", ranges: [[20, 20]] }],
    ["11:20", { op: "none" }],
    // UID sets keep their numbers; * is the largest UID
    ["UID 40:*", { op: "uid", ranges: [[20, 40]] }],
    ["UID 5:7,6:9,1", { op: "uid", ranges: [[1, 1], [5, 9]] }],
    ["UID *", { op: "uid", ranges: [[20, 20]] }],
    // $ is the saved result
    ["$", { op: "uid", ranges: [[6, 6], [9, 9]] }],
    ["UID $", { op: "uid", ranges: [[6, 6], [9, 9]] }],
    // \Recent is this session's
    ["RECENT", { op: "uid", ranges: [[5, 5], [20, 20]] }],
    ["NEW", { op: "and", keys: [{ op: "uid", ranges: [[5, 5], [20, 20]] }, { op: "flag", flag: "\\Seen", set: false }] }],
    ["OLD", { op: "not", key: { op: "uid", ranges: [[5, 5], [20, 20]] } }],
  ];
  for (const [criteria, expected] of table) {
    it(`${criteria}`, () => assert.deepEqual(key(criteria), expected));
  }

  it("an empty mailbox: * names nothing, RECENT matches nothing", () => {
    const empty: SearchContext = { uids: [], recent: [], saved: [] };
    assert.deepEqual(parse("1:*", empty).criteria, { op: "none" });
    assert.deepEqual(parse("UID 1:*", empty).criteria, { op: "none" });
    assert.deepEqual(parse("RECENT", empty).criteria, { op: "none" });
    assert.deepEqual(parse("$", empty).criteria, { op: "none" });
  });

  it("compresses UIDs into ranges", () => {
    assert.deepEqual(toRanges([9, 1, 2, 3, 7, 8, 3]), [
      [1, 3],
      [7, 9],
    ]);
    assert.deepEqual(toRanges([]), []);
  });
});

describe("SEARCH RETURN and CHARSET", () => {
  it("reads RETURN options; an empty list means ALL", () => {
    assert.deepEqual([...parse("RETURN (MIN MAX COUNT) ALL").returnOptions!], ["MIN", "MAX", "COUNT"]);
    assert.deepEqual([...parse("RETURN () SEEN").returnOptions!], ["ALL"]);
    assert.deepEqual([...parse("RETURN (save all) SEEN").returnOptions!], ["SAVE", "ALL"]);
    assert.equal(parse("SEEN").returnOptions, null);
  });

  it("RETURN then CHARSET then criteria", () => {
    const parsed = parse('RETURN (COUNT) CHARSET US-ASCII FROM "x"');
    assert.deepEqual(parsed.criteria, { op: "header", field: "from", value: "x" });
  });

  it("accepts UTF-8 and US-ASCII in any case", () => {
    for (const cs of ["UTF-8", "utf-8", "US-ASCII", '"us-ascii"']) assert.doesNotThrow(() => parse(`CHARSET ${cs} ALL`));
  });

  it("refuses other charsets with NO [BADCHARSET (UTF-8 US-ASCII)]", () => {
    assert.throws(
      () => parse("CHARSET ISO-8859-1 SUBJECT x"),
      (e: { status?: string; code?: string }) => e.status === "NO" && e.code === "BADCHARSET (UTF-8 US-ASCII)",
    );
  });

  it("RETURN is refused where the command has none (SORT, THREAD)", () => {
    assert.throws(() => parse("RETURN (ALL) ALL", ctx, false), (e: { status?: string }) => e.status === "BAD");
  });
});

describe("SEARCH syntax errors are BAD", () => {
  for (const criteria of [
    "",
    "NOPE",
    "FROM",
    "OR SEEN",
    "NOT",
    "LARGER x",
    "LARGER 99999999999",
    "BEFORE 2026-01-01",
    "BEFORE 31-Feb-2026",
    "BEFORE 1-Foo-2026",
    "KEYWORD \\Seen",
    "UID",
    "UID abc",
    "0:3",
    "MODSEQ x",
    'MODSEQ "/flags/x" nope 5',
    "RETURN (BOGUS) ALL",
    "RETURN ALL",
    "()",
    'HEADER "" x',
  ]) {
    it(JSON.stringify(criteria), () => {
      assert.throws(() => parse(criteria), (e: { status?: string }) => e.status === "BAD");
    });
  }
});
