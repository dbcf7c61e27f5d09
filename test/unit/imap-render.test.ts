/**
 * ENVELOPE / BODYSTRUCTURE / BODY renderers (and RFC822.SIZE from the index) against every
 * such entry of the Dovecot 2.3.19 oracle, framed as Dovecot frames them:
 * `* <seq> FETCH (UID <uid> <ITEM> <value>)\r\n`.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { indexMessage, normalizeLineEndings, type MessageIndex } from "../../common/mime/index.ts";
import { humanString, nstringNoLf, stringEscaped } from "../../relay/imap/protocol/strings.ts";
import { renderBodyStructure } from "../../relay/imap/render/bodystructure.ts";
import { renderEnvelope } from "../../relay/imap/render/envelope.ts";
import { decodeResponse, loadOracle, readOracleMessage } from "../support/oracle.ts";

/**
 * Oracle entries we knowingly do not reproduce: `${message} ${command}` -> reason
 * (with the RFC section that allows our answer). Empty: every entry matches.
 */
const EXCEPTIONS = new Map<string, string>();

const indexes = new Map<string, MessageIndex>();
function indexed(name: string): MessageIndex {
  let index = indexes.get(name);
  if (index === undefined) {
    // Stored in a database column: render from the JSON round trip, as the server will.
    index = JSON.parse(JSON.stringify(indexMessage(normalizeLineEndings(readOracleMessage(name))))) as MessageIndex;
    indexes.set(name, index);
  }
  return index;
}

function render(item: string, index: MessageIndex): Buffer {
  switch (item) {
    case "BODYSTRUCTURE":
      return renderBodyStructure(index.body, true);
    case "BODY":
      return renderBodyStructure(index.body, false);
    case "ENVELOPE":
      return renderEnvelope(index.envelope);
    default:
      return Buffer.from(String(index.size));
  }
}

describe("oracle FETCH BODYSTRUCTURE / BODY / ENVELOPE / RFC822.SIZE", () => {
  const ITEM = /^UID FETCH (\d+) \((BODYSTRUCTURE|BODY|ENVELOPE|RFC822\.SIZE)\)$/;
  const counts = new Map<string, number>();
  for (const entry of loadOracle().entries) {
    const m = ITEM.exec(entry.command);
    if (m === null || entry.message === null || entry.uid === null) continue;
    const { message, uid } = entry;
    const item = m[2]!;
    counts.set(item, (counts.get(item) ?? 0) + 1);
    const key = `${message} ${entry.command}`;
    test(key, { skip: EXCEPTIONS.get(key) }, () => {
      const got = Buffer.concat([
        Buffer.from(`* ${uid} FETCH (UID ${uid} ${item} `),
        render(item, indexed(message)),
        Buffer.from(")\r\n"),
      ]);
      assert.deepEqual(got.toString("latin1"), decodeResponse(entry).toString("latin1"));
    });
  }
  test("covers 59 messages x 4 items", () => {
    assert.deepEqual(Object.fromEntries(counts), { BODYSTRUCTURE: 59, BODY: 59, ENVELOPE: 59, "RFC822.SIZE": 59 });
  });
});

describe("Dovecot string encodings", () => {
  const latin1 = (b: Buffer): string => b.toString("latin1");

  test("stringEscaped: up to four quoted-specials stay quoted", () => {
    assert.equal(latin1(stringEscaped("")), '""');
    assert.equal(latin1(stringEscaped('a"b\\c')), '"a\\"b\\\\c"');
    assert.equal(latin1(stringEscaped('""""')), '"\\"\\"\\"\\""');
    assert.equal(latin1(stringEscaped('"""""')), '{5}\r\n"""""');
    assert.equal(latin1(stringEscaped("a\r\nb")), "{4}\r\na\r\nb");
    assert.equal(latin1(stringEscaped(Buffer.from([0x61, 0xe9]))), "{2}\r\na\xe9");
  });

  test("nstringNoLf drops line breaks", () => {
    assert.equal(latin1(nstringNoLf(null)), "NIL");
    assert.equal(latin1(nstringNoLf("a\r\n b")), '"a b"');
    assert.equal(latin1(nstringNoLf("a\r\nb")), '"a b"');
  });

  test("humanString matches Dovecot's test table", () => {
    const cases: [string, string][] = [
      ["", '""'],
      [" ", '""'],
      ["  ", '""'],
      ["\t", '""'],
      [" \t ", '""'],
      [" foo", "{3}\r\nfoo"],
      ["\t \tfoo", "{3}\r\nfoo"],
      [" foo  \t  \t", "{3}\r\nfoo"],
      ['hello"world', '{11}\r\nhello"world'],
      ["hello\\world", "{11}\r\nhello\\world"],
      ["hello\rworld", "{11}\r\nhello world"],
      ["hello\r\n  world", "{11}\r\nhello world"],
      ["hello  \r\n  world", "{11}\r\nhello world"],
      ["plain text", '"plain text"'],
    ];
    for (const [input, output] of cases) assert.equal(latin1(humanString(input)), output, JSON.stringify(input));
  });
});
