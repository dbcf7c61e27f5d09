/**
 * The IMAP reader and parser under random and mutated input (a seeded generator, so a failure
 * reproduces): nothing but an ImapProtocolError ever escapes, the reader never holds more
 * than its limits allow, and every command line that ends is answered by exactly one event.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandReader, type ReaderEvent } from "../../relay/imap/protocol/reader.ts";
import { Args, parseCommand } from "../../relay/imap/protocol/parser.ts";
import { ImapProtocolError } from "../../relay/imap/protocol/errors.ts";
import { parseFetchItems } from "../../relay/imap/fetch/items.ts";

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'a1 LOGIN "user@example.org" "p\\"w"',
  "a2 SELECT INBOX",
  "a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.100> BODYSTRUCTURE)",
  "a4 STORE 1,3:5 +FLAGS.SILENT (\\Seen $Forwarded)",
  'a5 LIST "" "*"',
  "a6 APPEND INBOX (\\Seen) {11}\r\nhello\r\nworld",
  "a7 APPEND INBOX {5+}\r\nhello",
  "a8 SEARCH OR (FROM x) (SUBJECT {3}\r\nabc) NOT DELETED",
  "a9 FETCH 1 (BODY[1.2.MIME] BINARY.PEEK[1]<0.10>)",
  "b1 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=",
];

const ALPHABET = Buffer.from('()[]{}<>"\\*%+~ \r\n0123456789ABCXYZabc.:,$\x00\x7f\xc3\xa9');

function mutate(next: () => number, base: string): Buffer {
  let bytes = Buffer.from(base, "latin1");
  const edits = 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (bytes.length + 1));
    const r = next();
    if (r < 0.3) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else if (r < 0.6) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(ALPHABET[Math.floor(next() * ALPHABET.length)]!), bytes.subarray(at)]);
    else if (r < 0.8) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(`{${Math.floor(next() * 40)}${next() < 0.5 ? "+" : ""}}\r\n`), bytes.subarray(at)]);
    else bytes = bytes.subarray(0, at);
  }
  return Buffer.concat([bytes, Buffer.from("\r\n")]);
}

function randomBytes(next: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = next() < 0.7 ? ALPHABET[Math.floor(next() * ALPHABET.length)]! : Math.floor(next() * 256);
  return out;
}

/** Parses a command the way the dispatcher and FETCH would; only protocol errors may escape. */
function exercise(bytes: Buffer): void {
  try {
    const parsed = parseCommand(bytes);
    const args = new Args(parsed.args);
    if (parsed.name.endsWith("FETCH") && args.remaining() >= 2) {
      args.sequenceSet();
      const t = args.next();
      parseFetchItems(t);
    }
  } catch (err) {
    if (!(err instanceof ImapProtocolError)) throw err;
  }
}

describe("IMAP reader and parser fuzzing", () => {
  const limits = { maxLineLength: 2048, maxLiteralSize: 4096, maxCommandSize: 8192 };

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`survive 2,000 mutated and random inputs split at random points (seed ${seed})`, () => {
      const next = rng(seed);
      const reader = new CommandReader(limits);
      let events: ReaderEvent[] = [];
      for (let round = 0; round < 2000; round++) {
        if (reader.closed) break;
        const input = next() < 0.8 ? mutate(next, SEEDS[Math.floor(next() * SEEDS.length)]!) : randomBytes(next, Math.floor(next() * 300));
        let pos = 0;
        while (pos < input.length) {
          const size = 1 + Math.floor(next() * 64);
          reader.feed(input.subarray(pos, pos + size));
          pos += size;
          for (let e = reader.next(); e; e = reader.next()) events.push(e);
          assert.ok(reader.bufferedBytes <= limits.maxCommandSize + limits.maxLineLength, `buffered ${reader.bufferedBytes}`);
        }
        for (const event of events) {
          if (event.kind === "command") exercise(event.bytes);
          if (event.kind === "error") assert.ok(event.text.length > 0);
        }
        events = [];
      }
    });
  }

  it("answers each of 500 complete garbage lines with exactly one event", () => {
    const next = rng(99);
    const reader = new CommandReader(limits);
    let answered = 0;
    for (let i = 0; i < 500; i++) {
      // No braces: a garbage line then cannot announce a literal and swallow the next one.
      const line = randomBytes(next, 1 + Math.floor(next() * 100)).filter((b) => b !== 0x0a && b !== 0x0d && b !== 0x7b && b !== 0x7d);
      if (line.every((b) => b === 0x20 || b === 0x09)) continue; // blank lines are skipped by design
      reader.feed(Buffer.concat([Buffer.from(line), Buffer.from("\r\n")]));
      let count = 0;
      for (let e = reader.next(); e; e = reader.next()) count++;
      assert.equal(count, 1, JSON.stringify(Buffer.from(line).toString("latin1")));
      answered++;
    }
    assert.ok(answered > 400);
  });
});
