import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Args, parseCommand, type Token } from "../../relay/imap/protocol/parser.ts";
import { ImapProtocolError } from "../../relay/imap/protocol/errors.ts";

/** Tokens in a compact, readable form: atoms bare, strings as JSON, NIL, lists in brackets. */
type Shown = string | { s: string; binary?: true } | null | Shown[];

function show(tokens: Token[]): Shown[] {
  return tokens.map((token): Shown => {
    switch (token.type) {
      case "atom":
        return token.value;
      case "string":
        return token.binary ? { s: token.value.toString("latin1"), binary: true } : { s: token.value.toString("latin1") };
      case "nil":
        return null;
      case "list":
        return show(token.items);
    }
  });
}

function parse(text: string): { tag: string; name: string; args: Shown[] } {
  const parsed = parseCommand(Buffer.from(text, "latin1"));
  return { tag: parsed.tag, name: parsed.name, args: show(parsed.args) };
}

const good: { says: string; input: string; gives: { tag: string; name: string; args: Shown[] } }[] = [
  { says: "a command without arguments", input: "a001 noop", gives: { tag: "a001", name: "NOOP", args: [] } },
  {
    says: "atoms and quoted strings",
    input: 'A1 LOGIN joe "secret pass"',
    gives: { tag: "A1", name: "LOGIN", args: ["joe", { s: "secret pass" }] },
  },
  {
    says: "quoted strings with escaped quote and backslash",
    input: 'A1 LOGIN "a\\"b" "c\\\\d"',
    gives: { tag: "A1", name: "LOGIN", args: [{ s: 'a"b' }, { s: "c\\d" }] },
  },
  {
    says: "an empty quoted string",
    input: 'A1 LIST "" *',
    gives: { tag: "A1", name: "LIST", args: [{ s: "" }, "*"] },
  },
  {
    says: "literals, synchronising and not, with the octets inline",
    input: "A1 LOGIN {4}\r\nus r {5+}\r\np)\r\n\"",
    gives: { tag: "A1", name: "LOGIN", args: [{ s: "us r" }, { s: 'p)\r\n"' }] },
  },
  {
    says: "a literal8 is a binary string",
    input: "A1 APPEND INBOX ~{3}\r\na\0b",
    gives: { tag: "A1", name: "APPEND", args: ["INBOX", { s: "a\0b", binary: true }] },
  },
  {
    says: "FETCH with a section and partial as one atom",
    input: "A1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.100>)",
    gives: { tag: "A1", name: "FETCH", args: ["1:*", ["FLAGS", "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.100>"]] },
  },
  {
    says: "a section holding a quoted field name stays in one atom",
    input: 'A1 FETCH 2 BODY[HEADER.FIELDS ("X-A]" TO)]',
    gives: { tag: "A1", name: "FETCH", args: ["2", 'BODY[HEADER.FIELDS ("X-A]" TO)]'] },
  },
  {
    says: "a mailbox name with brackets is an ordinary atom",
    input: "A1 SELECT [Gmail]/Drafts",
    gives: { tag: "A1", name: "SELECT", args: ["[Gmail]/Drafts"] },
  },
  {
    says: "a [ with no ] on the line is an ordinary atom character",
    input: "A1 CREATE a[b",
    gives: { tag: "A1", name: "CREATE", args: ["a[b"] },
  },
  {
    says: "UID STORE with flags is named UID STORE",
    input: "A1 uid store 1 +FLAGS.SILENT (\\Seen)",
    gives: { tag: "A1", name: "UID STORE", args: ["1", "+FLAGS.SILENT", ["\\Seen"]] },
  },
  {
    says: "NIL in any case is NIL, empty and nested lists are lists",
    input: 'A1 ID (nil NIL () (("x")))',
    gives: { tag: "A1", name: "ID", args: [[null, null, [], [[{ s: "x" }]]]] },
  },
  {
    says: "a tag may hold ] but not +",
    input: "a]1 NOOP",
    gives: { tag: "a]1", name: "NOOP", args: [] },
  },
  {
    says: "extra spaces between arguments are tolerated",
    input: "A1 LIST  \"\"  *  ",
    gives: { tag: "A1", name: "LIST", args: [{ s: "" }, "*"] },
  },
];

const bad: { says: string; input: string; tag: string | null; text: RegExp }[] = [
  { says: "an empty line", input: "", tag: null, text: /Empty command/ },
  { says: "an empty tag", input: " NOOP", tag: null, text: /Missing tag/ },
  { says: "a tag with +", input: "A+1 NOOP", tag: null, text: /Invalid tag/ },
  { says: "a tag with *", input: "* NOOP", tag: null, text: /Invalid tag/ },
  { says: "a tag alone", input: "A1", tag: "A1", text: /Missing command name/ },
  { says: "a tag and a space", input: "A1 ", tag: "A1", text: /Missing command name/ },
  { says: "UID with no command", input: "A1 UID", tag: "A1", text: /Missing command name/ },
  { says: "a missing )", input: "A1 FETCH 1 (FLAGS UID", tag: "A1", text: /missing \)/ },
  { says: "a stray )", input: "A1 FETCH 1 FLAGS)", tag: "A1", text: /unexpected \)/ },
  { says: "a bad quoted escape", input: 'A1 LOGIN "a\\nb" x', tag: "A1", text: /Invalid escape/ },
  { says: "an unterminated quoted string", input: 'A1 LOGIN "abc', tag: "A1", text: /Unterminated/ },
  { says: "a truncated literal", input: "A1 LOGIN {10}\r\nabc", tag: "A1", text: /truncated/ },
  { says: "a malformed literal", input: "A1 LOGIN {1x}\r\nabc", tag: "A1", text: /Invalid literal/ },
  { says: "tokens run together", input: 'A1 LOGIN "a""b"', tag: "A1", text: /Missing space/ },
  { says: "a control character", input: "A1 LOGIN a\x01b", tag: "A1", text: /Invalid character 0x01/ },
  { says: "8-bit data in an atom", input: "A1 SELECT caf\xe9", tag: "A1", text: /8-bit/ },
  { says: "lists nested 33 deep", input: `A1 X ${"(".repeat(33)}${")".repeat(33)}`, tag: "A1", text: /nested too deeply/ },
];

function badError(input: string): ImapProtocolError {
  try {
    parseCommand(Buffer.from(input, "latin1"));
  } catch (error) {
    assert.ok(error instanceof ImapProtocolError, `not an ImapProtocolError: ${String(error)}`);
    return error;
  }
  assert.fail(`parsed: ${JSON.stringify(input)}`);
}

describe("parseCommand", () => {
  for (const { says, input, gives } of good) {
    it(`parses ${says}`, () => assert.deepEqual(parse(input), gives));
  }
  for (const { says, input, tag, text } of bad) {
    it(`answers BAD to ${says}${tag ? `, with the tag ${tag}` : ", untagged"}`, () => {
      const error = badError(input);
      assert.equal(error.status, "BAD");
      assert.equal(error.tag, tag);
      assert.match(error.message, text);
    });
  }
  it("accepts lists nested 32 deep", () => {
    const parsed = parseCommand(Buffer.from(`A1 X ${"(".repeat(32)}${")".repeat(32)}`));
    let depth = 0;
    let token: Token | undefined = parsed.args[0];
    while (token?.type === "list") {
      depth++;
      token = token.items[0];
    }
    assert.equal(depth, 32);
  });
  it("honours a lower nesting limit", () => {
    assert.throws(() => parseCommand(Buffer.from("A1 X ((()))"), { maxDepth: 2 }), /nested too deeply/);
  });
});

function args(text: string): Args {
  const parsed = parseCommand(Buffer.from(`T1 X ${text}`, "latin1"));
  return new Args(parsed.args, parsed.tag);
}

describe("Args", () => {
  it("reads a LOGIN's two astrings: an atom and a literal", () => {
    const a = args("joe {4}\r\np\0ss");
    assert.equal(a.astringText(), "joe");
    assert.deepEqual(a.astring(), Buffer.from("p\0ss", "latin1"));
    a.end();
  });
  it("keeps an astring that happens to be nil as sent", () => {
    const a = args("nil");
    assert.equal(a.astringText(), "nil");
  });
  it("decodes a quoted UTF-8 mailbox name", () => {
    assert.equal(args('"Entw\xc3\xbcrfe"').astringText("mailbox name"), "Entwürfe");
  });
  it("refuses invalid UTF-8 as astring text", () => {
    assert.throws(() => args('"\xff"').astringText("mailbox name"), /Invalid UTF-8 in mailbox name/);
  });
  it("refuses a wildcard in an astring but allows it in a list-mailbox", () => {
    assert.throws(() => args("foo*").astring("mailbox name"), /Invalid character in mailbox name/);
    assert.deepEqual(args("foo*").listMailbox(), Buffer.from("foo*"));
  });
  it("reads nstrings: NIL and strings, not atoms", () => {
    const a = args('NIL "x" y');
    assert.equal(a.nstring(), null);
    assert.deepEqual(a.nstring(), Buffer.from("x"));
    assert.throws(() => a.nstring(), /Expected a string or NIL, got "y"/);
  });
  it("reads lists and optional lists", () => {
    const a = args("(\\Seen) {1}\r\nx");
    assert.deepEqual(a.optionalList(), [{ type: "atom", value: "\\Seen" }]);
    assert.equal(a.optionalList(), null);
    assert.equal(a.remaining(), 1);
    assert.throws(() => a.list("flag list"), /Expected flag list, got a string/);
  });
  it("reads a sequence set, with * and $ kept symbolic", () => {
    assert.deepEqual(args("1,3:5,7:*,$").sequenceSet(), {
      items: [
        { kind: "range", from: 1, to: 1 },
        { kind: "range", from: 3, to: 5 },
        { kind: "range", from: 7, to: "*" },
        { kind: "saved" },
      ],
    });
  });
  it("answers BAD with the tag to a bad sequence set", () => {
    assert.throws(() => args("1:0").sequenceSet(), (e: unknown) => e instanceof ImapProtocolError && e.status === "BAD" && e.tag === "T1");
  });
  it("reads numbers within their ranges", () => {
    const a = args("0 4294967295 4294967296 9223372036854775807 9007199254740991");
    assert.equal(a.number(), 0);
    assert.equal(a.number(), 4294967295);
    assert.throws(() => a.number(), /Expected a number/);
    assert.equal(a.number64(), 4294967296);
    assert.equal(a.number64(), 9223372036854775807n);
    assert.equal(a.number64(), 9007199254740991);
    a.end();
  });
  it("refuses zero where a non-zero number is needed", () => {
    assert.throws(() => args("0").nzNumber(), /Expected a non-zero number/);
  });
  it("says what is extra at the end", () => {
    const a = args("INBOX extra");
    a.atom();
    assert.throws(() => a.end(), /Unexpected extra argument "extra"/);
  });
  it("says what is missing at the end", () => {
    assert.throws(() => args("").astring("mailbox name"), /Expected mailbox name, got end of command/);
  });
  it("peeks at keywords without consuming them", () => {
    const a = args("body.peek[] x");
    assert.equal(a.peekAtom(), "BODY.PEEK[]");
    assert.equal(a.atom(), "body.peek[]");
  });
});
