import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  continuation,
  fetchResponse,
  flagList,
  internalDate,
  tagged,
  untagged,
  untaggedParts,
  untaggedStatus,
} from "../../relay/imap/protocol/writer.ts";
import { literal } from "../../relay/imap/protocol/strings.ts";

const text = (b: Buffer) => b.toString("latin1");

describe("writer", () => {
  const cases: [says: string, made: Buffer, gives: string][] = [
    ["a tagged OK", tagged("A1", "OK", "NOOP completed"), "A1 OK NOOP completed\r\n"],
    ["a tagged NO with a response code", tagged("A2", "NO", "Mailbox does not exist", "NONEXISTENT"), "A2 NO [NONEXISTENT] Mailbox does not exist\r\n"],
    ["a tagged BAD with a code that has arguments", tagged("A3", "OK", "Done", "APPENDUID 38505 3955"), "A3 OK [APPENDUID 38505 3955] Done\r\n"],
    ["a tagged response whose text cannot inject a line", tagged("A4", "BAD", "bad\r\nA5 OK forged"), "A4 BAD bad  A5 OK forged\r\n"],
    ["an untagged response", untagged("3 EXISTS"), "* 3 EXISTS\r\n"],
    ["an untagged status with a code", untaggedStatus("OK", "UIDs valid", "UIDVALIDITY 7"), "* OK [UIDVALIDITY 7] UIDs valid\r\n"],
    ["an untagged BYE", untaggedStatus("BYE", "Logging out"), "* BYE Logging out\r\n"],
    [
      "an untagged response built from parts, literals included, joined verbatim",
      untaggedParts(['LIST () "/" ', literal("a\"b")]),
      '* LIST () "/" {3}\r\na"b\r\n',
    ],
    ["a continuation request", continuation("Ready for literal data"), "+ Ready for literal data\r\n"],
    ["an empty continuation request", continuation(), "+ \r\n"],
    [
      "a FETCH response with several items",
      fetchResponse(12, [
        ["UID", "42"],
        ["FLAGS", flagList(["\\Seen", "$Junk"])],
        ["BODY[]", literal("hi\r\n")],
      ]),
      "* 12 FETCH (UID 42 FLAGS (\\Seen $Junk) BODY[] {4}\r\nhi\r\n)\r\n",
    ],
    ["a FETCH response with one item", fetchResponse(1, [["FLAGS", flagList([])]]), "* 1 FETCH (FLAGS ())\r\n"],
  ];
  for (const [says, made, gives] of cases) {
    it(`formats ${says}`, () => assert.equal(text(made), gives));
  }

  it("formats flag lists", () => {
    assert.equal(flagList([]), "()");
    assert.equal(flagList(["\\Seen", "\\Flagged"]), "(\\Seen \\Flagged)");
  });

  const dates: [says: string, ms: number, tz: number | undefined, gives: string][] = [
    ["noon UTC on new year's day, day zero-padded", Date.UTC(2026, 0, 1, 12, 0, 0), undefined, '"01-Jan-2026 12:00:00 +0000"'],
    ["a time shown two hours east of UTC", Date.UTC(2026, 0, 1, 23, 30, 5), 120, '"02-Jan-2026 01:30:05 +0200"'],
    ["a time shown five and a half hours west of UTC", Date.UTC(2025, 11, 17, 3, 4, 5), -330, '"16-Dec-2025 21:34:05 -0530"'],
  ];
  for (const [says, ms, tz, gives] of dates) {
    it(`formats INTERNALDATE for ${says}`, () => assert.equal(internalDate(ms, tz), gives));
  }
});
