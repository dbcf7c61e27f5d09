/**
 * SEARCH answers as tables: the classic SEARCH line, ESEARCH (RFC 4731) with each RETURN
 * option, the CONDSTORE MODSEQ suffix, and what SAVE keeps as `$` (RFC 5182).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReturnOption } from "../../relay/imap/search/parse.ts";
import { esearchResponse, savedResult, searchResponse } from "../../relay/imap/search/response.ts";

const opts = (...o: ReturnOption[]) => new Set(o);

describe("SEARCH response", () => {
  it("lists the numbers", () => assert.equal(searchResponse([2, 3, 10], null), "* SEARCH 2 3 10\r\n"));
  it("is bare when nothing matched", () => assert.equal(searchResponse([], null), "* SEARCH\r\n"));
  it("carries MODSEQ after the numbers (RFC 7162 §3.1.5)", () => {
    assert.equal(searchResponse([2, 5], 917162500), "* SEARCH 2 5 (MODSEQ 917162500)\r\n");
    assert.equal(searchResponse([], 917162500), "* SEARCH\r\n");
  });
});

describe("ESEARCH response", () => {
  const table: [string, boolean, Set<ReturnOption>, number[], number | null, string | null][] = [
    ["ALL by UID", true, opts("ALL"), [1, 2, 3, 7, 9, 10], null, '* ESEARCH (TAG "A1") UID ALL 1:3,7,9:10\r\n'],
    ["ALL by sequence number", false, opts("ALL"), [4], null, '* ESEARCH (TAG "A1") ALL 4\r\n'],
    ["MIN MAX COUNT", true, opts("MIN", "MAX", "COUNT"), [3, 5, 8], null, '* ESEARCH (TAG "A1") UID MIN 3 MAX 8 COUNT 3\r\n'],
    ["order is MIN MAX ALL COUNT", false, opts("COUNT", "ALL", "MAX", "MIN"), [2, 3], null, '* ESEARCH (TAG "A1") MIN 2 MAX 3 ALL 2:3 COUNT 2\r\n'],
    ["no match: only COUNT remains", true, opts("MIN", "MAX", "ALL", "COUNT"), [], null, '* ESEARCH (TAG "A1") UID COUNT 0\r\n'],
    ["no match, no COUNT", false, opts("ALL"), [], null, '* ESEARCH (TAG "A1")\r\n'],
    ["MODSEQ last", true, opts("ALL"), [5], 42, '* ESEARCH (TAG "A1") UID ALL 5 MODSEQ 42\r\n'],
    ["SAVE alone: no response", true, opts("SAVE"), [5], null, null],
    ["SAVE with MIN", true, opts("SAVE", "MIN"), [5, 6], null, '* ESEARCH (TAG "A1") UID MIN 5\r\n'],
  ];
  for (const [name, byUid, options, numbers, modseq, expected] of table) {
    it(name, () => assert.equal(esearchResponse("A1", byUid, options, numbers, modseq), expected));
  }
});

describe("SAVE keeps", () => {
  it("every match by default", () => assert.deepEqual(savedResult(opts("SAVE"), [1, 4, 9]), [1, 4, 9]));
  it("every match with ALL or COUNT", () => {
    assert.deepEqual(savedResult(opts("SAVE", "MIN", "ALL"), [1, 4, 9]), [1, 4, 9]);
    assert.deepEqual(savedResult(opts("SAVE", "MAX", "COUNT"), [1, 4, 9]), [1, 4, 9]);
  });
  it("only MIN and/or MAX when those alone were asked (RFC 5182 §2.4)", () => {
    assert.deepEqual(savedResult(opts("SAVE", "MIN"), [1, 4, 9]), [1]);
    assert.deepEqual(savedResult(opts("SAVE", "MAX"), [1, 4, 9]), [9]);
    assert.deepEqual(savedResult(opts("SAVE", "MIN", "MAX"), [1, 4, 9]), [1, 9]);
    assert.deepEqual(savedResult(opts("SAVE", "MIN", "MAX"), [4]), [4]);
  });
  it("nothing when nothing matched", () => assert.deepEqual(savedResult(opts("SAVE", "MIN"), []), []));
});
