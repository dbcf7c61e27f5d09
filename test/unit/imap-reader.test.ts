import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CommandReader, type ReaderEvent, type ReaderLimits } from "../../relay/imap/protocol/reader.ts";

const LIMITS: ReaderLimits = { maxLineLength: 100, maxLiteralSize: 50, maxCommandSize: 200 };

/** Events with Buffers shown as text, so tables read as sentences. */
type Shown =
  | { command: string }
  | { continue: number }
  | { line: string }
  | { error: string; tag: string | null; code: string | null; fatal: boolean };

function show(events: ReaderEvent[]): Shown[] {
  return events.map((event) => {
    switch (event.kind) {
      case "command":
        return { command: event.bytes.toString("latin1") };
      case "continue":
        return { continue: event.literalSize };
      case "line":
        return { line: event.bytes.toString("latin1") };
      case "error":
        return { error: event.text, tag: event.tag, code: event.code, fatal: event.fatal };
    }
  });
}

function read(chunks: (string | Buffer)[], limits: ReaderLimits = LIMITS): Shown[] {
  const reader = new CommandReader(limits);
  const events: ReaderEvent[] = [];
  for (const chunk of chunks) events.push(...reader.push(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk));
  return show(events);
}

const cases: { says: string; chunks: string[]; limits?: ReaderLimits; gives: Shown[] }[] = [
  { says: "a simple command comes out without its CRLF", chunks: ["A1 NOOP\r\n"], gives: [{ command: "A1 NOOP" }] },
  {
    says: "two pipelined commands in one chunk come out as two commands",
    chunks: ["A1 NOOP\r\nA2 CAPABILITY\r\n"],
    gives: [{ command: "A1 NOOP" }, { command: "A2 CAPABILITY" }],
  },
  { says: "a bare LF ends a line too", chunks: ["A1 NOOP\n"], gives: [{ command: "A1 NOOP" }] },
  { says: "an incomplete line waits for more", chunks: ["A1 NO", "OP"], gives: [] },
  { says: "empty lines between commands are ignored", chunks: ["\r\n\r\nA1 NOOP\r\n"], gives: [{ command: "A1 NOOP" }] },
  {
    says: "a synchronising literal asks for a continuation, then the command carries the octets inline",
    chunks: ["A1 LOGIN {4}\r\n", "user {4}\r\n", "pass\r\n"],
    gives: [{ continue: 4 }, { continue: 4 }, { command: "A1 LOGIN {4}\r\nuser {4}\r\npass" }],
  },
  {
    says: "a LITERAL+ literal needs no continuation",
    chunks: ["A1 LOGIN {4+}\r\nuser {4+}\r\npass\r\n"],
    gives: [{ command: "A1 LOGIN {4+}\r\nuser {4+}\r\npass" }],
  },
  {
    says: "a literal8 is announced with ~{n}",
    chunks: ["A1 APPEND INBOX ~{3}\r\n", "a\0b\r\n"],
    gives: [{ continue: 3 }, { command: "A1 APPEND INBOX ~{3}\r\na\0b" }],
  },
  {
    says: "literal octets holding CRLF and {5}-looking text are taken verbatim",
    chunks: ["A1 APPEND INBOX {12+}\r\nx {5}\r\ny\r\n\r\n\r\nA2 NOOP\r\n"],
    gives: [{ command: "A1 APPEND INBOX {12+}\r\nx {5}\r\ny\r\n\r\n" }, { command: "A2 NOOP" }],
  },
  {
    says: "a zero-length synchronising literal still asks for a continuation",
    chunks: ["A1 LOGIN {0}\r\n", " x\r\n"],
    gives: [{ continue: 0 }, { command: "A1 LOGIN {0}\r\n x" }],
  },
  {
    says: "a line of exactly the limit is accepted, even when its CR and LF arrive apart",
    chunks: [`A1 ${"x".repeat(97)}\r`, "\n"],
    gives: [{ command: `A1 ${"x".repeat(97)}` }],
  },
  {
    says: "a line one octet over the limit is not",
    chunks: [`A1 ${"x".repeat(98)}\r\n`],
    gives: [{ error: "Line too long", tag: "A1", code: "TOOBIG", fatal: false }],
  },
  {
    says: "an over-long line is reported once with its tag, and the next command is read normally",
    chunks: [`A1 NOOP ${"x".repeat(150)}\r\nA2 NOOP\r\n`],
    gives: [{ error: "Line too long", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "an over-long line arriving in pieces is reported when it ends, never buffered",
    chunks: ["A1 NOOP ", "x".repeat(80), "x".repeat(80), "x".repeat(80), "\r", "\nA2 NOOP\r\n"],
    gives: [{ error: "Line too long", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "an over-long line whose tag cannot be read is reported untagged",
    chunks: ["x".repeat(150) + "\r\nA2 NOOP\r\n"],
    gives: [{ error: "Line too long", tag: null, code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "an over-long line ending in a LITERAL+ literal has the literal skipped too",
    chunks: [`A1 APPEND ${"x".repeat(150)} {10+}\r\n0123456789\r\nA2 NOOP\r\n`],
    gives: [{ error: "Line too long", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "a synchronising literal above the limit is refused with TOOBIG and the reader resynchronises",
    chunks: ["A1 APPEND INBOX {51}\r\n", "A2 NOOP\r\n"],
    gives: [{ error: "Literal too big", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "a non-synchronising literal above the limit is fatal and nothing more is read",
    chunks: ["A1 APPEND INBOX {51+}\r\n", "x".repeat(51), "\r\nA2 NOOP\r\n"],
    gives: [{ error: "Non-synchronizing literal too big", tag: "A1", code: "TOOBIG", fatal: true }],
  },
  {
    says: "an absurd literal size is simply too big",
    chunks: ["A1 APPEND INBOX {99999999999999999999}\r\nA2 NOOP\r\n"],
    gives: [{ error: "Literal too big", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "a LITERAL+ literal with an absurd size is fatal too",
    chunks: [`A1 APPEND INBOX {${"9".repeat(40)}+}\r\n`],
    gives: [{ error: "Non-synchronizing literal too big", tag: "A1", code: "TOOBIG", fatal: true }],
  },
  {
    says: "an over-long line ending in a LITERAL+ literal with an absurd size is fatal",
    chunks: [`A1 APPEND ${"x".repeat(150)} {${"9".repeat(40)}+}\r\n`],
    gives: [{ error: "Non-synchronizing literal too big", tag: "A1", code: "TOOBIG", fatal: true }],
  },
  {
    says: "a synchronising literal that would overflow the command is refused with LIMIT",
    limits: { ...LIMITS, maxCommandSize: 150 },
    chunks: ["A1 X {40}\r\n", "x".repeat(40), " {40}\r\n", "x".repeat(40), " {40}\r\n", "x".repeat(40), " {40}\r\n", "A2 NOOP\r\n"],
    gives: [
      { continue: 40 },
      { continue: 40 },
      { continue: 40 },
      { error: "Command too long", tag: "A1", code: "LIMIT", fatal: false },
      { command: "A2 NOOP" },
    ],
  },
  {
    says: "a LITERAL+ literal that would overflow the command is skipped and reported non-fatally",
    limits: { ...LIMITS, maxCommandSize: 150 },
    chunks: ["A1 X {40+}\r\n" + "x".repeat(40) + " {40+}\r\n" + "x".repeat(40) + " {40+}\r\n" + "x".repeat(40) + " {40+}\r\n" + "x".repeat(40) + "\r\nA2 NOOP\r\n"],
    gives: [{ error: "Command too long", tag: "A1", code: "LIMIT", fatal: false }, { command: "A2 NOOP" }],
  },
  {
    says: "with LITERAL- limits a larger non-synchronising literal is skipped and refused with TOOBIG",
    limits: { ...LIMITS, maxNonSyncLiteralSize: 10 },
    chunks: ["A1 APPEND INBOX {20+}\r\n" + "y".repeat(20) + "\r\nA2 NOOP\r\n"],
    gives: [{ error: "Non-synchronizing literal too big", tag: "A1", code: "TOOBIG", fatal: false }, { command: "A2 NOOP" }],
  },
];

describe("CommandReader", () => {
  for (const { says, chunks, limits, gives } of cases) {
    it(says, () => assert.deepEqual(read(chunks, limits), gives));
  }

  it("gives the same events when a pipelined stream with literals is split at every byte", () => {
    const stream = "A1 LOGIN {4}\r\nuser {4+}\r\npass\r\nA2 SELECT \"INBOX\"\r\nA3 APPEND INBOX {12+}\r\nx {5}\r\ny\r\n\r\n\r\nA4 NOOP\r\n";
    const whole = read([stream]);
    assert.deepEqual(whole, [
      { continue: 4 },
      { command: "A1 LOGIN {4}\r\nuser {4+}\r\npass" },
      { command: 'A2 SELECT "INBOX"' },
      { command: "A3 APPEND INBOX {12+}\r\nx {5}\r\ny\r\n\r\n" },
      { command: "A4 NOOP" },
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      assert.deepEqual(read([stream.slice(0, cut), stream.slice(cut)]), whole, `split at ${cut}`);
    }
    assert.deepEqual(read([...stream]), whole, "one byte at a time");
  });

  it("gives the same error events when an over-long command is fed one byte at a time", () => {
    const stream = `A1 APPEND ${"x".repeat(150)} {10+}\r\n0123456789\r\nA2 NOOP\r\n`;
    assert.deepEqual(read([...stream]), read([stream]));
  });

  it("never holds more than a line's worth of an endless line", () => {
    const reader = new CommandReader(LIMITS);
    for (let i = 0; i < 1000; i++) {
      assert.deepEqual(reader.push(Buffer.from("y".repeat(64))), []);
      assert.ok(reader.bufferedBytes <= LIMITS.maxLineLength + 1);
    }
  });

  it("delivers raw lines in line mode and commands again after it", () => {
    const reader = new CommandReader(LIMITS);
    assert.deepEqual(show(reader.push(Buffer.from("A1 AUTHENTICATE PLAIN\r\n"))), [{ command: "A1 AUTHENTICATE PLAIN" }]);
    reader.setLineMode(true);
    assert.deepEqual(show(reader.push(Buffer.from("AGZvbwBiYXI=\r\n\r\n"))), [{ line: "AGZvbwBiYXI=" }, { line: "" }]);
    reader.setLineMode(false);
    assert.deepEqual(show(reader.push(Buffer.from("A2 NOOP\r\n"))), [{ command: "A2 NOOP" }]);
  });

  it("reports an over-long raw line in line mode without a tag", () => {
    const reader = new CommandReader(LIMITS);
    reader.setLineMode(true);
    assert.deepEqual(show(reader.push(Buffer.from(`${"z".repeat(150)}\r\nDONE\r\n`))), [
      { error: "Line too long", tag: null, code: "TOOBIG", fatal: false },
      { line: "DONE" },
    ]);
  });

  it("with feed/next, a mode change takes effect for bytes pipelined behind the command", () => {
    const reader = new CommandReader(LIMITS);
    reader.feed(Buffer.from("A1 IDLE\r\nDONE\r\nA2 NOOP\r\n"));
    assert.deepEqual(show([reader.next()!]), [{ command: "A1 IDLE" }]);
    reader.setLineMode(true);
    assert.deepEqual(show([reader.next()!]), [{ line: "DONE" }]);
    reader.setLineMode(false);
    assert.deepEqual(show([reader.next()!]), [{ command: "A2 NOOP" }]);
    assert.equal(reader.next(), null);
  });

  it("discardBuffered drops whatever was pipelined after STARTTLS", () => {
    const reader = new CommandReader(LIMITS);
    reader.feed(Buffer.from("A1 STARTTLS\r\nA2 LOGIN evil injected\r\nA3 NOO"));
    assert.deepEqual(show([reader.next()!]), [{ command: "A1 STARTTLS" }]);
    reader.discardBuffered();
    assert.equal(reader.bufferedBytes, 0);
    assert.equal(reader.next(), null);
    assert.deepEqual(show(reader.push(Buffer.from("A4 CAPABILITY\r\n"))), [{ command: "A4 CAPABILITY" }]);
  });

  it("reads nothing more after a fatal error", () => {
    const reader = new CommandReader(LIMITS);
    reader.push(Buffer.from("A1 APPEND INBOX {9999+}\r\n"));
    assert.equal(reader.closed, true);
    assert.deepEqual(reader.push(Buffer.from("A2 NOOP\r\n")), []);
  });
});
