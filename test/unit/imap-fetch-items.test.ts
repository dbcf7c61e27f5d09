/**
 * FETCH item parsing, header field filtering and LIST patterns, as tables.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFetchItem } from "../../relay/imap/fetch/items.ts";
import { filterHeaderFields } from "../../relay/imap/fetch/header-fields.ts";
import { patternMatcher } from "../../relay/imap/commands/list.ts";

describe("FETCH items", () => {
  const cases: [string, object][] = [
    ["BODY[]", { peek: false, part: "", specifier: "", responseName: "BODY[]" }],
    ["BODY.PEEK[HEADER]", { peek: true, part: "", specifier: "HEADER", responseName: "BODY[HEADER]" }],
    ["body.peek[1.2.mime]", { peek: true, part: "1.2", specifier: "MIME", responseName: "BODY[1.2.MIME]" }],
    ["BODY[2.TEXT]<10.50>", { part: "2", specifier: "TEXT", partial: { offset: 10, length: 50 }, responseName: "BODY[2.TEXT]<10>" }],
    [
      "BODY.PEEK[HEADER.FIELDS (From Subject)]",
      { specifier: "HEADER.FIELDS", fields: ["From", "Subject"], responseName: "BODY[HEADER.FIELDS (FROM SUBJECT)]" },
    ],
    ["RFC822", { peek: false, specifier: "", responseName: "RFC822" }],
    ["RFC822.HEADER", { peek: true, specifier: "HEADER", responseName: "RFC822.HEADER" }],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${text}`, () => {
      const item = parseFetchItem(text);
      assert.equal(item.kind, "section");
      for (const [k, v] of Object.entries(expected)) assert.deepEqual((item as unknown as Record<string, unknown>)[k], v, k);
    });
  }
  it("reads the simple items case-insensitively", () => {
    assert.deepEqual(parseFetchItem("rfc822.size"), { kind: "RFC822.SIZE" });
  });
  for (const bad of ["BODY[0]", "BODY[MIME]", "BODY[HEADER.FIELDS]", "BODY[TEXT (X)]", "BODY[]<0.0>", "NOPE"]) {
    it(`refuses ${bad} with BAD`, () => {
      assert.throws(() => parseFetchItem(bad), (e: { status?: string }) => e.status === "BAD");
    });
  }
});

describe("HEADER.FIELDS filtering", () => {
  const header = Buffer.from(
    "Received: one\r\n\tfolded\r\nFrom: a@b\r\nSubject: hi\r\n  there\r\nTo : c@d\r\nreceived: two\r\n\r\n",
  );
  it("keeps matching fields in message order, with folding, then the blank line", () => {
    assert.equal(
      filterHeaderFields(header, ["SUBJECT", "from"], false).toString(),
      "From: a@b\r\nSubject: hi\r\n  there\r\n\r\n",
    );
  });
  it("matches a field written 'Name : value'", () => {
    assert.equal(filterHeaderFields(header, ["to"], false).toString(), "To : c@d\r\n\r\n");
  });
  it("NOT drops every occurrence of the named fields", () => {
    assert.equal(
      filterHeaderFields(header, ["Received"], true).toString(),
      "From: a@b\r\nSubject: hi\r\n  there\r\nTo : c@d\r\n\r\n",
    );
  });
});

describe("LIST patterns", () => {
  const table: [string, string, boolean][] = [
    ["*", "Sent", true],
    ["*", "Archive/2026", true],
    ["%", "Archive/2026", false],
    ["Archive/%", "Archive/2026", true],
    ["inbox", "INBOX", true],
    ["sent", "Sent", false],
    ["S*t", "Sent", true],
    ["a.b", "axb", false],
  ];
  for (const [pattern, name, matches] of table) {
    it(`${pattern} ${matches ? "matches" : "does not match"} ${name}`, () => {
      assert.equal(patternMatcher(pattern)(name), matches);
    });
  }
});
