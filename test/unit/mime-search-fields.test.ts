/**
 * Search fields computed at ingest (common/mime/search-fields.ts and its helpers): RFC 2047
 * words, transfer encodings, charsets, dates, base subjects, thread ids, limits, robustness.
 * The oracle checks are in mime-search-fields-oracle.test.ts.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SearchFields } from "../../common/contract.ts";
import { baseSubject, extractBaseSubject, subjectIsReply } from "../../common/mime/base-subject.ts";
import { decodeCharset } from "../../common/mime/charset.ts";
import { parseMessageDate } from "../../common/mime/date.ts";
import { decodeHeaderText } from "../../common/mime/encoded-words.ts";
import { indexMessage, normalizeLineEndings, type BodyPart } from "../../common/mime/index.ts";
import { messageIds } from "../../common/mime/message-id.ts";
import {
  BODY_MAX,
  FIELD_VALUE_MAX,
  HEADERS_TOTAL_MAX,
  computeSearchFields,
} from "../../common/mime/search-fields.ts";
import { decodeBase64, decodeQuotedPrintable } from "../../common/mime/transfer-decoding.ts";
import { oracleMessageFiles, readOracleMessage } from "../support/oracle.ts";

const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

function fieldsOf(message: string | Buffer): SearchFields {
  const raw = normalizeLineEndings(typeof message === "string" ? latin1(message) : message);
  return computeSearchFields(raw, indexMessage(raw), { strict: true });
}

/** A message with the given header lines and body octets. */
function message(headers: string[], body: Buffer | string = ""): Buffer {
  return Buffer.concat([latin1(headers.map((h) => `${h}\r\n`).join("") + "\r\n"), typeof body === "string" ? latin1(body) : body]);
}

describe("RFC 2047 encoded words", () => {
  const cases: [string, string, string][] = [
    ["B, UTF-8", "=?UTF-8?B?w5xuYWwgw5Z6dMO8cms=?=", "Ünal Öztürk"],
    ["B without padding", "=?UTF-8?B?w5xuYWw?=", "Ünal"],
    ["Q, ISO-8859-1", "=?ISO-8859-1?Q?Fran=E7ois_Tr=E9panier?=", "François Trépanier"],
    ["q and charset in lower case, lower-case hex", "=?iso-8859-1?q?Ren=e9e?=", "Renée"],
    ["empty word", "a=?UTF-8?Q??=b", "ab"],
    ["adjacent words are joined", "=?UTF-8?Q?Adjacent_?= =?UTF-8?Q?words?=", "Adjacent words"],
    ["adjacent across a fold", "=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=\r\n\t=?UTF-8?B?Yw==?=", "abc"],
    ["adjacent words in different charsets", "=?UTF-8?Q?=C3=A9t=C3=A9?= =?ISO-8859-1?Q?=E0_Montr=E9al?=", "étéà Montréal"],
    ["a character split across two words", "=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=", "café"],
    ["text after a word keeps its space", "=?UTF-8?Q?a?= b", "a b"],
    ["text before a word keeps its space", "Re: =?UTF-8?Q?b?=", "Re: b"],
    ["RFC 2231 language suffix", "=?UTF-8*en?Q?Language_Tagged?=", "Language Tagged"],
    ["KOI8-R", "=?KOI8-R?B?8NLJ18XU?=", "Привет"],
    ["ISO-2022-JP", "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "日本語"],
    ["GB2312", "=?GB2312?B?1tDOxA==?=", "中文"],
    ["ISO-8859-15", "=?ISO-8859-15?Q?Preis_100_=A4?=", "Preis 100 €"],
    ["windows-1252", "=?windows-1252?Q?=93quoted=94?=", "“quoted”"],
    ["glued to other text (decoded, as Dovecot does)", "foo=?UTF-8?Q?bar?=baz", "foobarbaz"],
    ["inside a quoted string (decoded, as Dovecot does)", '"=?UTF-8?Q?Inside_Quotes?=" <q@x>', '"Inside Quotes" <q@x>'],
    ["malformed: unknown charset", "=?x-unknown-charset?Q?mystery?=", "=?x-unknown-charset?Q?mystery?="],
    ["malformed: invalid base64", "=?UTF-8?B?not*valid*base64?=", "=?UTF-8?B?not*valid*base64?="],
    ["malformed: base64 of 4n+1 characters", "=?UTF-8?B?abcde?=", "=?UTF-8?B?abcde?="],
    ["malformed: unterminated", "and =?UTF-8?Q?unterminated_word", "and =?UTF-8?Q?unterminated_word"],
    ["malformed: spaces inside", "=?UTF-8?Q?has spaces inside?=", "=?UTF-8?Q?has spaces inside?="],
    ["malformed: no encoding", "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="],
    ["a malformed word keeps the space to its neighbour", "=?x-unknown?Q?a?= =?UTF-8?Q?b?=", "=?x-unknown?Q?a?= b"],
    ["a stray = in Q text is kept", "=?UTF-8?Q?1=2?=", "1=2"],
    ["raw UTF-8 octets", "J\xc3\xb6ran Raw", "Jöran Raw"],
    ["raw latin1 octets", "Caf\xe9 na\xefve", "Café naïve"],
    ["raw 8-bit next to a word", "\xc3\xa9 =?UTF-8?Q?=C3=A9?=", "é é"],
    ["unfolding keeps the white space", "a\r\n b\r\n\tc", "a b\tc"],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(decodeHeaderText(input), expected));
  }
});

describe("transfer decoding", () => {
  const qp: [string, string][] = [
    ["Caf=E9 cr=e8me", "Caf\xe9 cr\xe8me"],
    ["soft=\r\nbreak", "softbreak"],
    ["soft=  \t\r\nbreak with padding", "softbreak with padding"],
    ["soft=\nbare LF", "softbare LF"],
    ["trailing space  \r\nnext", "trailing space\r\nnext"],
    ["trailing tab\t\nnext", "trailing tab\nnext"],
    ["inner  spaces\tkept", "inner  spaces\tkept"],
    ["1 + 1 =3D 2", "1 + 1 = 2"],
    ["encoded space=20\r\n", "encoded space \r\n"],
    ["bad =zz escape", "bad =zz escape"],
    ["short =4", "short =4"],
    ["soft break at the end=", "soft break at the end"],
    ["", ""],
  ];
  for (const [input, expected] of qp) {
    test(`quoted-printable ${JSON.stringify(input)}`, () => {
      assert.equal(Buffer.from(decodeQuotedPrintable(latin1(input))).toString("latin1"), expected);
    });
  }

  const b64: [string, string][] = [
    ["aGVsbG8=", "hello"],
    ["aGVs\r\nbG8=\r\n", "hello"],
    ["aGVsbG8", "hello"],
    ["aGk=aGk=", "hihi"],
    ["a*G!V-sbG 8=", "hello"],
    ["aGVsbG8=\r\n==\r\n", "hello"],
    ["", ""],
    ["a", ""],
  ];
  for (const [input, expected] of b64) {
    test(`base64 ${JSON.stringify(input)}`, () => {
      assert.equal(Buffer.from(decodeBase64(latin1(input))).toString("latin1"), expected);
    });
  }

  test("base64 agrees with Buffer on the oracle's base64 parts", () => {
    for (const name of oracleMessageFiles()) {
      const raw = normalizeLineEndings(readOracleMessage(name));
      for (const part of leaves(indexMessage(raw).body)) {
        if (part.encoding.toLowerCase() !== "base64") continue;
        const body = Buffer.from(raw.subarray(part.bodyStart, part.bodyEnd));
        assert.deepEqual(Buffer.from(decodeBase64(body)), Buffer.from(body.toString("latin1"), "base64"), name);
        assert.equal(part.decodedSize, Buffer.from(body.toString("latin1"), "base64").length, name);
      }
    }
  });

  test("decodedSize: only on base64/quoted-printable non-multipart parts", () => {
    const seen: string[] = [];
    for (const name of oracleMessageFiles()) {
      const raw = normalizeLineEndings(readOracleMessage(name));
      const visit = (part: BodyPart): void => {
        const encoded = ["base64", "quoted-printable"].includes(part.encoding.toLowerCase());
        if (part.parts !== undefined || !encoded) assert.equal(part.decodedSize, undefined, name);
        else {
          assert.equal(typeof part.decodedSize, "number", name);
          seen.push(`${name.slice(0, 3)}:${part.decodedSize}`);
        }
        part.parts?.forEach(visit);
        if (part.message !== undefined) visit(part.message.body);
      };
      visit(indexMessage(raw).body);
    }
    // Quoted-printable sizes agree with Python's quopri/email; base64 ones are checked against Buffer above.
    assert.deepEqual(
      seen.filter((s) => ["004", "024", "039", "047", "054"].includes(s.slice(0, 3))),
      ["004:387", "024:120", "039:72", "047:61", "054:119"],
    );
    assert.ok(seen.includes("057:147"), seen.join(" ")); // the base64 message/rfc822 part
  });

  test("decodedSize survives the JSON round trip of the index", () => {
    const raw = normalizeLineEndings(readOracleMessage("005-base64-text.eml"));
    const index = indexMessage(raw);
    assert.deepEqual(JSON.parse(JSON.stringify(index)), index);
    assert.equal(index.body.decodedSize, 193);
  });
});

function leaves(part: BodyPart): BodyPart[] {
  if (part.parts !== undefined) return part.parts.flatMap(leaves);
  if (part.message !== undefined) return [part, ...leaves(part.message.body)];
  return [part];
}

describe("charsets", () => {
  const cases: [string, Buffer, string | null, string][] = [
    ["ISO-8859-1", latin1("caf\xe9"), "ISO-8859-1", "café"],
    ["latin1 label (WHATWG: windows-1252)", latin1("\x80 caf\xe9"), "latin1", "€ café"],
    ["windows-1252", latin1("\x93q\x94 \x96 \x8020"), "windows-1252", "“q” – €20"],
    ["koi8-r", Buffer.from("8NLJ18XU", "base64"), "koi8-r", "Привет"],
    ["iso-2022-jp", Buffer.from("GyRCRnxLXDhsGyhC", "base64"), "ISO-2022-JP", "日本語"],
    ["quoted label with language", latin1("caf\xe9"), '"iso-8859-1*fr"', "café"],
    ["us-ascii holding UTF-8", Buffer.from("café"), "us-ascii", "café"],
    ["us-ascii holding latin1", latin1("caf\xe9"), "us-ascii", "café"],
    ["no charset, UTF-8", Buffer.from("naïve"), null, "naïve"],
    ["unknown charset, UTF-8", Buffer.from("naïve"), "x-unknown", "naïve"],
    ["unknown charset, latin1", latin1("na\xefve"), "x-unknown", "naïve"],
    ["utf-8 with an invalid octet", latin1("a\xffb"), "utf-8", "a\ufffdb"],
    ["replacement-only charset (iso-2022-kr) falls back", Buffer.from("plain"), "iso-2022-kr", "plain"],
  ];
  for (const [name, bytes, charset, expected] of cases) {
    test(name, () => assert.equal(decodeCharset(bytes, charset), expected));
  }

  const bodies: [string, string[], Buffer, string][] = [
    [
      "latin1 quoted-printable",
      ["Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable"],
      latin1("Caf=E9 cr=E8me=\r\n br=FBl=E9e\r\n"),
      "café crème brûlée\n",
    ],
    [
      "windows-1252 html, kept with its tags",
      ["Content-Type: text/html; charset=windows-1252", "Content-Transfer-Encoding: 8bit"],
      latin1("<p>\x93Hi\x94 \x80</p>"),
      "<p>“hi” €</p>",
    ],
    [
      "koi8-r base64",
      ["Content-Type: text/plain; charset=KOI8-R", "Content-Transfer-Encoding: base64"],
      latin1("8NLJ18XU\r\n"),
      "привет",
    ],
    [
      "iso-2022-jp 7bit",
      ["Content-Type: text/plain; charset=iso-2022-jp"],
      Buffer.from("GyRCRnxLXDhsGyhC", "base64"),
      "日本語",
    ],
  ];
  for (const [name, headers, body, expected] of bodies) {
    test(`body: ${name}`, () => {
      assert.equal(fieldsOf(message(["MIME-Version: 1.0", ...headers], body)).body, expected);
    });
  }
});

describe("Date", () => {
  const at = (s: string): number => Date.parse(s);
  const cases: [string, string | null, number | null][] = [
    ["Thu, 01 Jan 2026 08:00:00 +0000", "2026-01-01", at("2026-01-01T08:00:00Z")],
    ["Fri, 02 Jan 2026 00:30:00 +0100", "2026-01-02", at("2026-01-01T23:30:00Z")],
    ["Sat, 03 Jan 2026 22:15:00 -0500", "2026-01-03", at("2026-01-04T03:15:00Z")],
    ["1 Jan 26 09:05 EST", "2026-01-01", at("2026-01-01T14:05:00Z")],
    ["31 Dec 99 23:59 UT", "1999-12-31", at("1999-12-31T23:59:00Z")],
    ["Sun, 5 Feb 049 10:00:00 GMT", "1949-02-05", at("1949-02-05T10:00:00Z")],
    ["Mon, 12 Jan 2026 08:00:00 +0000 (UTC)", "2026-01-12", at("2026-01-12T08:00:00Z")],
    ["(sent) Mon (day), 12 (x (nested)) Jan 2026 08:00:00 +0000", "2026-01-12", at("2026-01-12T08:00:00Z")],
    ["12 Jan 2026 08 : 00 : 30 PDT", "2026-01-12", at("2026-01-12T15:00:30Z")],
    ["Monday, 12 January 2026 08:00 +01:00", "2026-01-12", at("2026-01-12T07:00:00Z")],
    ["Thu Jan  1 08:00:00 2026", "2026-01-01", at("2026-01-01T08:00:00Z")],
    ["Mon, 12 Jan 2026 08:00:00 A", "2026-01-12", at("2026-01-12T08:00:00Z")],
    ["Mon, 12 Jan 2026 08:00:00 CEST", "2026-01-12", at("2026-01-12T08:00:00Z")],
    ["Mon, 12 Jan 2026 08:00:00", "2026-01-12", at("2026-01-12T08:00:00Z")],
    ["29 Feb 2024 12:00 +0000", "2024-02-29", at("2024-02-29T12:00:00Z")],
    ["Sun, 11 Jan 2026 10:00:00 +0000 ", "2026-01-11", at("2026-01-11T10:00:00Z")],
    ["", null, null],
    ["garbage", null, null],
    ["29 Feb 2026 12:00 +0000", null, null],
    ["12 Jan 2026 24:00 +0000", null, null],
    ["12 Foo 2026 10:00 +0000", null, null],
    ["Mon, Jan 2026 10:00 +0000", null, null],
    ["12 Jan 2026 10:00 +0000 trailing 99", null, null],
  ];
  for (const [input, date, ms] of cases) {
    test(JSON.stringify(input), () => {
      const parsed = parseMessageDate(input);
      assert.deepEqual(parsed === null ? null : [parsed.date, parsed.at], date === null ? null : [date, ms]);
    });
  }

  test("missing Date and the first of two Date fields", () => {
    const missing = fieldsOf(message(["Subject: x"], "body"));
    assert.equal(missing.sentDate, null);
    assert.equal(missing.sentAt, null);
    const two = fieldsOf(message(["Date: 2 Jan 2026 10:00 +0000", "Date: 3 Jan 2026 10:00 +0000"]));
    assert.equal(two.sentDate, "2026-01-02");
    assert.equal(fieldsOf(message(["Date: someday"])).sentDate, null);
  });
});

describe("RFC 5256 base subject", () => {
  const cases: [string, string][] = [
    ["Re: foo", "foo"],
    ["RE: Re: re: foo", "foo"],
    ["Fwd: foo", "foo"],
    ["FW: fwd: foo", "foo"],
    ["Re[2]: foo", "foo"],
    ["Re [List]: foo", "foo"],
    ["[List] Re: foo", "foo"],
    ["Re: [List] foo", "foo"],
    ["[a][b] Re: [c] Fwd: foo", "foo"],
    ["[List]", "[List]"],
    ["[List] ", "[List]"],
    ["foo (fwd)", "foo"],
    ["foo (fwd) (FWD)  ", "foo"],
    ["[Fwd: Re: foo]", "foo"],
    ["[fwd: [fwd: foo (fwd)]]", "foo"],
    ["Re:   foo \t bar  ", "foo bar"],
    ["Fwd: Re: [x] Re: y (fwd)", "y"],
    ["Reply to this", "Reply to this"],
    ["Re:", ""],
    ["", ""],
    ["Fw: [fwd: ]", ""],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.equal(baseSubject(input), expected));
  }

  // RFC 5256 §2.1: a reply or forward when a subj-refwd, a "(fwd)" trailer or "[fwd: ...]" was removed.
  const replies: [string, boolean][] = [
    ["Re: foo", true],
    ["[list] Re: foo", true],
    ["Re [list]: foo", true],
    ["Fwd: foo", true],
    ["FW: foo", true],
    ["foo (fwd)", true],
    ["foo (FWD)  ", true],
    ["[fwd: foo]", true],
    ["[Fwd: [list] foo]", true],
    ["[list] foo", false],
    ["[a] [b] foo", false],
    ["foo", false],
    ["  foo  ", false],
    ["Reply to this", false],
    ["foo (fwd) bar", false],
    ["Re:", true],
    ["Re: [x] Fwd: y", true],
    ["", false],
    ["[list]", false],
  ];
  for (const [input, expected] of replies) {
    test(`isReply ${JSON.stringify(input)}`, () => {
      assert.equal(subjectIsReply(input), expected);
      assert.deepEqual(extractBaseSubject(input), { base: baseSubject(input), isReply: expected });
    });
  }

  test("thread.isReply from the first Subject field, encoded words decoded", () => {
    assert.equal(fieldsOf(message(["Subject: =?UTF-8?Q?RE=3A_Gr=C3=BC=C3=9Fe?="])).thread.isReply, true);
    assert.equal(fieldsOf(message(["Subject: [list] hello", "Subject: Re: hello"])).thread.isReply, false);
    assert.equal(fieldsOf(message(["Subject: Hello (fwd)"])).thread.isReply, true);
    assert.equal(fieldsOf(message(["From: a@b"])).thread.isReply, false);
  });

  test("encoded words are decoded first, the result is folded", () => {
    const f = fieldsOf(message(["Subject: =?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?= AUS =?UTF-8?Q?K=C3=B6ln?= (fwd)"]));
    assert.equal(f.sort.subject, "grüße aus köln");
    assert.equal(fieldsOf(message(["From: a@b"])).sort.subject, "");
  });
});

describe("sort addresses", () => {
  test("first address, group markers skipped, display name decoded or the address", () => {
    const f = fieldsOf(
      message([
        "From: =?UTF-8?Q?Zo=C3=AB?= <Zoe.X@Example.org>, other@example.org",
        "To: Team: \"Bob B.\" <BOB@example.net>;, carol@example.com",
        "Cc: undisclosed:;, <Quinn@Example.net>",
      ]),
    );
    assert.deepEqual(f.sort, {
      subject: "",
      from: "zoe.x",
      to: "bob",
      cc: "quinn",
      displayFrom: "zoë",
      displayTo: "bob b.",
    });
    const g = fieldsOf(message(["From: <Plain@Example.org>", "To: Not An Address"]));
    assert.equal(g.sort.displayFrom, "plain@example.org");
    assert.equal(g.sort.to, "");
    assert.equal(g.sort.displayTo, "not an address");
  });
});

describe("thread ids", () => {
  const cases: [string, string[]][] = [
    ["<a@b>", ["a@b"]],
    ["  <oracle-001@example.org> (Alice's message of Thursday)", ["oracle-001@example.org"]],
    ["Your message of Monday <id@host>", ["id@host"]],
    ["<thread-root@example.org>\r\n <thread-second@example.org>\r\n\t<x@y>", ["thread-root@example.org", "thread-second@example.org", "x@y"]],
    ["<a@b><c@d>", ["a@b", "c@d"]],
    ["<no-at-sign> <x@y>", ["x@y"]],
    ["<> <@> <a@> <@b>", []],
    ["<<a@b>", ["a@b"]],
    ["<a@\r\n b>", ["a@b"]],
    ["garbage", []],
    ["<unterminated@x", []],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.deepEqual(messageIds(input), expected));
  }

  test("Message-ID, In-Reply-To, References from the message", () => {
    const f = fieldsOf(
      message([
        "Message-ID: <Me@Example.org>",
        "In-Reply-To: <p1@x> <p2@x>",
        "References: <r1@x> garbage <r2@x>",
        "References: <ignored@x>",
      ]),
    );
    assert.deepEqual(f.thread, { messageId: "Me@Example.org", inReplyTo: "p1@x", references: ["r1@x", "r2@x"], isReply: false });
    assert.deepEqual(fieldsOf(message(["Message-ID: none"])).thread, { messageId: null, inReplyTo: null, references: [], isReply: false });
  });

  test("at most the last 1000 references", () => {
    const ids = Array.from({ length: 1200 }, (_, i) => `<r${i}@x>`);
    const f = fieldsOf(message([`References: ${ids.join("\r\n ")}`]));
    assert.equal(f.thread.references.length, 1000);
    assert.equal(f.thread.references[0], "r200@x");
    assert.equal(f.thread.references[999], "r1199@x");
  });
});

describe("headers and body", () => {
  test("names lower-cased, all occurrences in order, values decoded and folded", () => {
    const f = fieldsOf(
      message([
        "SUBJECT: =?UTF-8?Q?K=C3=96LN?=",
        "X-Dup: One",
        "x-dup : Two",
        "X-Empty:",
        "__proto__: ignored",
        "X-Folded: a\r\n\tb",
      ]),
    );
    assert.deepEqual(f.headers, { subject: ["köln"], "x-dup": ["one", "two"], "x-empty": [""], "x-folded": ["a\tb"] });
    assert.equal(Object.getPrototypeOf(f.headers), Object.prototype);
  });

  test("a value is cut at 64 Ki units, all values at 1 Mi; later fields keep their presence", () => {
    const big = "x".repeat(100_000);
    const headers = Array.from({ length: 20 }, (_, i) => `X-Big-${i}: ${big}`);
    const f = fieldsOf(message([...headers, "Subject: late"]));
    assert.equal(f.headers["x-big-0"]![0]!.length, FIELD_VALUE_MAX);
    const total = Object.values(f.headers).flat().reduce((n, v) => n + v.length, 0);
    assert.equal(total, HEADERS_TOTAL_MAX);
    assert.deepEqual(f.headers["subject"], [""]);
    assert.equal(f.sort.subject, "late");
    SearchFields.parse(f);
  });

  test("body: text parts only, encapsulated headers excluded, parts joined with LF", () => {
    const raw = [
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "preamble words",
      "--b",
      "Content-Type: text/plain",
      "",
      "First PART",
      "--b",
      "Content-Type: application/octet-stream",
      "",
      "binary words",
      "--b",
      "Content-Type: message/rfc822",
      "",
      "Subject: inner header words",
      "",
      "inner body",
      "--b--",
      "epilogue words",
      "",
    ].join("\r\n");
    assert.equal(fieldsOf(raw).body, "first part\ninner body"); // the CRLF before a delimiter is not part text
  });

  test("body is cut at 1 MiB without splitting a surrogate pair", () => {
    const text = "a" + "🦉".repeat(BODY_MAX); // 2 units per owl
    const f = fieldsOf(message(["Content-Type: text/plain; charset=utf-8"], Buffer.from(text)));
    assert.equal(f.body.length, BODY_MAX - 1);
    assert.ok(f.body.endsWith("🦉"));
    SearchFields.parse(f);
  });
});
