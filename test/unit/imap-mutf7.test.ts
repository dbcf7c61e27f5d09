/**
 * Modified UTF-7 (RFC 3501 §5.1.3) as a table: every name has exactly one wire spelling, and
 * anything that is not that spelling is refused rather than guessed at. Also the name rules
 * the mailbox commands share (mailbox-names.ts) and LIST's pattern matcher.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { patternMatcher } from "../../relay/imap/commands/list.ts";
import { checkNewMailboxName, mailboxNameFromWire, mailboxNameToWire } from "../../relay/imap/mailbox-names.ts";
import { ImapProtocolError } from "../../relay/imap/protocol/errors.ts";
import { decodeMutf7, encodeMutf7, Mutf7Error } from "../../relay/imap/protocol/mutf7.ts";

describe("modified UTF-7 round trips", () => {
  const table: [name: string, wire: string][] = [
    ["INBOX", "INBOX"],
    ["", ""],
    ["&", "&-"],
    ["a&b&&", "a&-b&-&-"],
    ["Entwürfe", "Entw&APw-rfe"],
    ["Tägliche Berichte", "T&AOQ-gliche Berichte"],
    ["~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"],
    ["☺!", "&Jjo-!"],
    ["😀", "&2D3eAA-"],
    ["é&é", "&AOk-&-&AOk-"],
    ["\u007f", "&AH8-"],
    ["Ünïcödé/Sub", "&ANw-n&AO8-c&APY-d&AOk-/Sub"],
  ];
  for (const [name, wire] of table) {
    it(`${JSON.stringify(name)} is ${JSON.stringify(wire)} on the wire`, () => {
      assert.equal(encodeMutf7(name), wire);
      assert.equal(decodeMutf7(wire), name);
      assert.equal(decodeMutf7(Buffer.from(wire, "latin1")), name);
    });
  }
});

describe("malformed modified UTF-7 is refused", () => {
  const table: [wire: string, why: RegExp][] = [
    ["&AOk", /without its closing/],
    ["&", /without its closing/],
    ["a&b", /without its closing/],
    ["&AGE-", /printable US-ASCII encoded/],
    ["&ACY-", /printable US-ASCII encoded/],
    ["&AOk-&AOk-", /adjacent BASE64 runs/],
    ["&AOl-", /bits left over/],
    ["&A-", /bits left over/],
    ["&AOkA-", /inside a UTF-16 code unit/],
    ["&2D0-", /unpaired surrogate/],
    ["&3gA-", /unpaired surrogate/],
    ["&AO*-", /invalid BASE64 character/],
    ["&AO/-", /invalid BASE64 character/],
    ["caf\u00e9", /outside printable US-ASCII/],
    ["tab\there", /outside printable US-ASCII/],
  ];
  for (const [wire, why] of table) {
    it(`${JSON.stringify(wire)}: ${why.source}`, () => {
      assert.throws(() => decodeMutf7(Buffer.from(wire, "latin1")), (err: unknown) => err instanceof Mutf7Error && why.test(err.message));
    });
  }
});

describe("mailbox names between wire and edge", () => {
  const rev1 = { enabled: new Set<string>() };
  const utf8 = { enabled: new Set(["UTF8=ACCEPT"]) };

  it("decodes modified UTF-7 in a rev1 session and UTF-8 after ENABLE UTF8=ACCEPT", () => {
    assert.equal(mailboxNameFromWire(rev1, Buffer.from("Entw&APw-rfe")), "Entwürfe");
    assert.equal(mailboxNameFromWire(utf8, Buffer.from("Entwürfe")), "Entwürfe");
    assert.equal(mailboxNameFromWire(utf8, Buffer.from("Entw&APw-rfe")), "Entw&APw-rfe", "no mUTF-7 once UTF-8 is on");
  });

  it("upper-cases INBOX as the first level only", () => {
    assert.equal(mailboxNameFromWire(rev1, Buffer.from("inbox")), "INBOX");
    assert.equal(mailboxNameFromWire(rev1, Buffer.from("Inbox/Sub")), "INBOX/Sub");
    assert.equal(mailboxNameFromWire(rev1, Buffer.from("Inboxes")), "Inboxes");
    assert.equal(mailboxNameFromWire(rev1, Buffer.from("Sub/inbox")), "Sub/inbox");
  });

  it("normalises UTF-8 names to NFC", () => {
    assert.equal(mailboxNameFromWire(utf8, Buffer.from("Entwu\u0308rfe")), "Entwürfe");
  });

  it("refuses 8-bit names in a rev1 session and invalid UTF-8 in a UTF-8 session with BAD [CLIENTBUG]", () => {
    const bad = (err: unknown) => err instanceof ImapProtocolError && err.status === "BAD" && err.code === "CLIENTBUG";
    assert.throws(() => mailboxNameFromWire(rev1, Buffer.from("Entwürfe")), bad);
    assert.throws(() => mailboxNameFromWire(utf8, Buffer.from([0x61, 0xff])), bad);
  });

  it("writes names as atoms, quoted strings or literals, in the session's encoding", () => {
    assert.equal(mailboxNameToWire(rev1, "INBOX").toString(), "INBOX");
    assert.equal(mailboxNameToWire(rev1, "Entwürfe").toString(), "Entw&APw-rfe");
    assert.equal(mailboxNameToWire(rev1, "Two words").toString(), '"Two words"');
    assert.equal(mailboxNameToWire(rev1, "NIL").toString(), '"NIL"');
    assert.equal(mailboxNameToWire(utf8, "Entwürfe").toString(), '"Entwürfe"', "UTF-8 travels in a quoted string");
    assert.equal(mailboxNameToWire(utf8, 'Say "hä"').toString(), '{9}\r\nSay "hä"');
    assert.equal(mailboxNameToWire(utf8, "Plain").toString(), "Plain");
  });

  it("checks names a client wants to create", () => {
    assert.equal(checkNewMailboxName("Projects/"), "Projects");
    assert.equal(checkNewMailboxName("inbox/Later"), "INBOX/Later");
    const cannot = (err: unknown) => err instanceof ImapProtocolError && err.status === "NO" && err.code === "CANNOT";
    for (const name of ["/", "a//b", "/a", "a%", "b*", "tab\there", "x\u0085", "a\u2028b", "x".repeat(1001)]) {
      assert.throws(() => checkNewMailboxName(name), cannot, JSON.stringify(name));
    }
  });
});

describe("LIST pattern matching", () => {
  const table: [pattern: string, name: string, matches: boolean][] = [
    ["*", "Projects/2026/Q1", true],
    ["%", "Projects/2026", false],
    ["%/%", "Projects/2026", true],
    ["Projects/%", "Projects/2026/Q1", false],
    ["Projects/*", "Projects/2026/Q1", true],
    ["*/Q1", "Projects/2026/Q1", true],
    ["%/Q1", "Projects/2026/Q1", false],
    ["P%s", "Projects", true],
    ["inbox", "INBOX", true],
    ["In%", "INBOX", true],
    ["inbox/%", "INBOX/Later", true],
    ["inbox/later", "INBOX/Later", false],
    ["inbox", "Inbox", false],
    ["sent", "Sent", false],
    ["Sent", "Sent", true],
    ["Sen", "Sent", false],
    ["", "Sent", false],
    ["%*%", "a/b/c", true],
    ["a.b", "axb", false],
    ["(x)", "(x)", true],
  ];
  for (const [pattern, name, matches] of table) {
    it(`${JSON.stringify(pattern)} ${matches ? "matches" : "does not match"} ${name}`, () => {
      assert.equal(patternMatcher(pattern)(name), matches);
    });
  }

  it("stays fast on patterns that make regular expressions backtrack", () => {
    const start = performance.now();
    const match = patternMatcher("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    assert.equal(match("a".repeat(1000)), false);
    assert.ok(performance.now() - start < 500);
  });
});
