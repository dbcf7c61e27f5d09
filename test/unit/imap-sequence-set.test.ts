import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  expandSequenceSet,
  formatSequenceSet,
  parseSequenceSet,
  stringifySequenceSet,
  uidsInSet,
  usesSavedResult,
} from "../../relay/imap/protocol/sequence-set.ts";
import { ImapProtocolError } from "../../relay/imap/protocol/errors.ts";

describe("parseSequenceSet", () => {
  const good: [text: string, back: string][] = [
    ["1", "1"],
    ["1,3:5,7:*,$", "1,3:5,7:*,$"],
    ["*", "*"],
    ["*:4", "*:4"],
    ["$", "$"],
    ["4294967295", "4294967295"],
  ];
  for (const [text, back] of good) {
    it(`reads ${text} and writes it back as ${back}`, () => assert.equal(stringifySequenceSet(parseSequenceSet(text)), back));
  }
  const bad = ["", "0", "1:0", "01", "1,", ",1", "1::2", "a", "1:2:3", "-1", "4294967296", " 1", "$:3", "1 2"];
  for (const text of bad) {
    it(`answers BAD to ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseSequenceSet(text), (e: unknown) => e instanceof ImapProtocolError && e.status === "BAD");
    });
  }
  it("knows when a set uses the saved search result", () => {
    assert.equal(usesSavedResult(parseSequenceSet("1,$")), true);
    assert.equal(usesSavedResult(parseSequenceSet("1:*")), false);
  });
});

describe("expandSequenceSet (message sequence numbers)", () => {
  const cases: [says: string, text: string, max: number, gives: number[]][] = [
    ["1:* names every message", "1:*", 4, [1, 2, 3, 4]],
    ["* is the last message", "*", 4, [4]],
    ["ranges may run backwards", "3:1", 4, [1, 2, 3]],
    ["*:2 runs from the last message down", "*:2", 4, [2, 3, 4]],
    ["overlaps come out once, ascending", "3,1:2,2:3,1", 4, [1, 2, 3]],
  ];
  for (const [says, text, max, gives] of cases) {
    it(says, () => assert.deepEqual(expandSequenceSet(parseSequenceSet(text), max), gives));
  }
  it("answers BAD to a number beyond the last message", () => {
    assert.throws(() => expandSequenceSet(parseSequenceSet("2:5"), 4), (e: unknown) => e instanceof ImapProtocolError && e.status === "BAD");
  });
  it("answers BAD to * in an empty mailbox", () => {
    assert.throws(() => expandSequenceSet(parseSequenceSet("1:*"), 0), ImapProtocolError);
  });
  it("with clamp, drops numbers beyond the last message instead", () => {
    assert.deepEqual(expandSequenceSet(parseSequenceSet("2:5,9"), 4, { clamp: true }), [2, 3, 4]);
    assert.deepEqual(expandSequenceSet(parseSequenceSet("1:*"), 0, { clamp: true }), []);
  });
  it("$ stands for the saved result, which is empty when there is none", () => {
    assert.deepEqual(expandSequenceSet(parseSequenceSet("$"), 9, { saved: [7, 2] }), [2, 7]);
    assert.deepEqual(expandSequenceSet(parseSequenceSet("$"), 9), []);
  });
  it("expands a wide range in a large mailbox quickly", () => {
    assert.equal(expandSequenceSet(parseSequenceSet("1:*,5:10"), 200_000).length, 200_000);
  });
});

describe("uidsInSet (UIDs)", () => {
  const uids = [3, 5, 6, 10, 42];
  const cases: [says: string, text: string, gives: number[]][] = [
    ["1:* names every UID in use", "1:*", [3, 5, 6, 10, 42]],
    ["* is the largest UID in use", "*", [42]],
    ["UIDs not in use are ignored", "1,2,4,5,7:9", [5]],
    ["a range n:* with n above the largest UID still names the largest", "100:*", [42]],
    ["ranges may run backwards", "10:4", [5, 6, 10]],
    ["overlaps come out once, ascending", "6:42,1:6", [3, 5, 6, 10, 42]],
    ["a range past every UID names nothing", "43:50", []],
  ];
  for (const [says, text, gives] of cases) {
    it(says, () => assert.deepEqual(uidsInSet(parseSequenceSet(text), uids), gives));
  }
  it("names nothing in an empty mailbox, * included", () => {
    assert.deepEqual(uidsInSet(parseSequenceSet("1:*"), []), []);
  });
  it("$ stands for the saved UIDs that are still in use", () => {
    assert.deepEqual(uidsInSet(parseSequenceSet("$,3"), uids, [42, 7, 5]), [3, 5, 42]);
  });
});

describe("formatSequenceSet", () => {
  const cases: [says: string, numbers: number[], gives: string][] = [
    ["runs are compressed", [1, 2, 3, 7], "1:3,7"],
    ["single numbers stay single", [1, 3, 5], "1,3,5"],
    ["one number is itself", [9], "9"],
    ["nothing is an empty string", [], ""],
    ["unsorted and repeated input is sorted first", [7, 2, 1, 3, 2], "1:3,7"],
    ["runs at the end are closed", [1, 4, 5, 6], "1,4:6"],
  ];
  for (const [says, numbers, gives] of cases) {
    it(says, () => assert.equal(formatSequenceSet(numbers), gives));
  }
});
