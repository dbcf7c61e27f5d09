/**
 * MIME index: line-ending normalisation, robustness, JSON round trip, and every
 * `BODY.PEEK[section]` / `BODY.PEEK[section]<o.n>` entry of the Dovecot oracle checked
 * against resolveSection() (HEADER.FIELDS[.NOT]: only that the header block is located;
 * the field filtering is not this module's job).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { indexMessage, normalizeLineEndings, resolveSection, type MessageIndex } from "../../common/mime/index.ts";
import { parseAddressList } from "../../common/mime/address.ts";
import { parseContentType } from "../../common/mime/content-type.ts";
import { parseHeaderBlock } from "../../common/mime/headers.ts";
import {
  decodeResponse,
  literalBody,
  loadOracle,
  oracleMessageFiles,
  parseFetchResponse,
  readOracleMessage,
} from "../support/oracle.ts";

/**
 * Oracle entries we knowingly do not reproduce: `${message} ${command}` -> reason
 * (with the RFC section that allows our answer). Empty: every entry matches.
 */
const EXCEPTIONS = new Map<string, string>();

const indexes = new Map<string, { raw: Uint8Array; index: MessageIndex }>();
function indexed(name: string): { raw: Uint8Array; index: MessageIndex } {
  let entry = indexes.get(name);
  if (entry === undefined) {
    const raw = normalizeLineEndings(readOracleMessage(name));
    entry = { raw, index: indexMessage(raw) };
    indexes.set(name, entry);
  }
  return entry;
}

function slice(raw: Uint8Array, range: { start: number; end: number } | null): Buffer {
  return range === null ? Buffer.alloc(0) : Buffer.from(raw.subarray(range.start, range.end));
}

describe("normalizeLineEndings", () => {
  test("returns the same object when there is no bare LF", () => {
    const raw = Buffer.from("a\r\nb\rc\r\n");
    assert.equal(normalizeLineEndings(raw), raw);
    const empty = new Uint8Array(0);
    assert.equal(normalizeLineEndings(empty), empty);
  });

  test("turns bare LF into CRLF and keeps bare CR", () => {
    const out = normalizeLineEndings(Buffer.from("\na\nb\r\nc\rd\n\n"));
    assert.equal(Buffer.from(out).toString("latin1"), "\r\na\r\nb\r\nc\rd\r\n\r\n");
  });

  test("046 is served as 493 octets", () => {
    const raw = readOracleMessage("046-bare-lf.eml");
    assert.equal(raw.length, 490);
    assert.equal(normalizeLineEndings(raw).length, 493);
  });
});

describe("indexMessage", () => {
  test("survives JSON.stringify/JSON.parse for every oracle message", () => {
    for (const name of oracleMessageFiles()) {
      const { index } = indexed(name);
      assert.deepEqual(JSON.parse(JSON.stringify(index)), index, name);
    }
  });

  test("never throws, and every resolved range lies inside the message", () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const samples = oracleMessageFiles().map((name) => readOracleMessage(name).subarray(0, 4000));
    const noise = Buffer.from('-\r\n:;"\\()<>@,=*\t abc/\x00\xff', "latin1");
    const sections = ["", "HEADER", "TEXT", "1", "1.MIME", "2", "2.1", "1.HEADER", "2.TEXT", "3.2.1.MIME", "0", "1."];
    for (let i = 0; i < 3000; i++) {
      const raw = Buffer.from(samples[Math.floor(random() * samples.length)]!);
      for (let k = 0; k < 8; k++) {
        const p = Math.floor(random() * raw.length);
        raw[p] = random() < 0.5 ? noise[Math.floor(random() * noise.length)]! : Math.floor(random() * 256);
      }
      const msg = normalizeLineEndings(raw.subarray(0, Math.floor(random() * (raw.length + 1))));
      const index = indexMessage(msg);
      assert.equal(index.size, msg.length);
      for (const s of sections) {
        const r = resolveSection(index, s);
        if (r !== null) assert.ok(r.start >= 0 && r.start <= r.end && r.end <= msg.length, `${s} ${JSON.stringify(r)}`);
      }
    }
    indexMessage(new Uint8Array(0));
  });

  test("deep nesting is bounded like Dovecot (100 levels)", () => {
    let text = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
    for (let d = 1; d < 500; d++) text += `--b${d - 1}\r\nContent-Type: multipart/mixed; boundary=b${d}\r\n\r\n`;
    let depth = 0;
    for (let part = indexMessage(Buffer.from(text)).body; part.parts?.[0] !== undefined; part = part.parts[0]) depth++;
    assert.ok(depth < 100);
  });

  test("keeps 8-bit octets as one char per octet (052 UTF-8, 053 ISO-8859-1)", () => {
    const from052 = indexed("052-address-edge-cases.eml").index.envelope.to!;
    assert.deepEqual(from052.at(-1), { name: "J\xc3\xb6ran Raw", adl: null, mailbox: "j\xc3\xb6ran", host: "ex\xc3\xa4mple.org" });
    assert.equal(indexed("053-raw-latin1-8bit-headers.eml").index.envelope.from![0]!.name, "Ren\xe9e Dupr\xe9");
  });

  test("degenerate structures", () => {
    const m043 = indexed("043-multipart-without-boundary.eml").index;
    assert.deepEqual(m043.body.parts, []);
    assert.equal(resolveSection(m043, "1"), null);
    const m057 = indexed("057-rfc822-with-base64-encoding.eml");
    const r2 = resolveSection(m057.index, "2")!;
    assert.equal(r2.end - r2.start, 202);
    const h2 = resolveSection(m057.index, "2.HEADER")!;
    assert.equal(h2.end - h2.start, 200);
    const m030 = indexed("030-top-level-message-rfc822.eml").index;
    assert.deepEqual(resolveSection(m030, "1.1.MIME"), resolveSection(m030, "1.HEADER"));
    assert.deepEqual(resolveSection(m030, "1.MIME"), resolveSection(m030, "HEADER"));
  });
});

describe("parsers", () => {
  test("addresses: groups and c-client placeholders", () => {
    assert.deepEqual(parseAddressList("undisclosed-recipients:;"), [
      { name: null, adl: null, mailbox: "undisclosed-recipients", host: null },
      { name: null, adl: null, mailbox: null, host: null },
    ]);
    assert.deepEqual(parseAddressList("Not An Address"), [
      { name: "Not An Address", adl: null, mailbox: "MISSING_MAILBOX", host: "MISSING_DOMAIN" },
    ]);
    assert.deepEqual(parseAddressList("postmaster"), [
      { name: null, adl: null, mailbox: "postmaster", host: "MISSING_DOMAIN" },
    ]);
    assert.deepEqual(parseAddressList('user@example.com (Real Name), "" <a@b>, (lead) c@d'), [
      { name: "Real Name", adl: null, mailbox: "user", host: "example.com" },
      { name: null, adl: null, mailbox: "a", host: "b" },
      { name: null, adl: null, mailbox: "c", host: "d" },
    ]);
    assert.equal(parseAddressList("  "), null);
  });

  test("content type: RFC 2231 and broken parameters", () => {
    assert.deepEqual(parseContentType("text/plain; a*1=y; a*0=x; b*0*=us-ascii''%41; b*1=%").params, [
      ["a", "xy"],
      ["b*", "us-ascii''%41%25"],
    ]);
    assert.deepEqual(parseContentType("text/plain; x=1; novalue; lost=1; kept=2").params, [
      ["x", "1"],
      ["kept", "2"],
    ]);
    const bad = parseContentType("nonsense; charset=utf-8");
    assert.deepEqual([bad.ok, bad.type, bad.subtype, bad.params], [false, "", "", []]);
  });

  test("header block: folding, `Name : value`, no blank line", () => {
    const raw = Buffer.from("Subject: a\r\n b\r\nX-A : v\r\nX-Empty:  \r\n");
    const block = parseHeaderBlock(raw);
    assert.equal(block.size, raw.length);
    assert.deepEqual(
      block.fields.map((f) => [f.name, f.value]),
      [
        ["Subject", "a\r\n b"],
        ["X-A", "v"],
        ["X-Empty", " "],
      ],
    );
  });
});

describe("oracle BODY[section] ranges", () => {
  const oracle = loadOracle();
  const SECTION = /^UID FETCH (\d+) \(BODY\.PEEK\[([^\]]*)\](?:<(\d+)\.(\d+)>)?\)$/;
  const kinds = new Map<string, number>();
  for (const entry of oracle.entries) {
    const m = SECTION.exec(entry.command);
    if (m === null || entry.message === null) continue;
    const message = entry.message;
    const section = m[2]!;
    const suffix = section.replace(/^[\d.]*/, "").replace(/ .*/, "") || (section === "" ? "[]" : "part");
    const kind = `${suffix}${m[3] === undefined ? "" : "<partial>"}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const key = `${message} ${entry.command}`;
    test(key, { skip: EXCEPTIONS.get(key) }, () => {
      const { raw, index } = indexed(message);
      const expected = literalBody(parseFetchResponse(decodeResponse(entry)).value);
      let got = slice(raw, resolveSection(index, section));
      if (/^HEADER\.FIELDS/i.test(suffix)) {
        // Field selection is done by the FETCH code; check that the block is located.
        const block = got.toString("latin1");
        for (const line of expected.toString("latin1").split("\r\n")) {
          if (line !== "") assert.ok(block.includes(line), `header block lacks ${JSON.stringify(line)}`);
        }
        return;
      }
      if (m[3] !== undefined) {
        const offset = Number(m[3]);
        got = offset >= got.length ? Buffer.alloc(0) : got.subarray(offset, offset + Number(m[4]));
      }
      assert.deepEqual(got.toString("latin1"), expected.toString("latin1"));
    });
  }
  test("covers every section entry of the oracle", () => {
    const total = [...kinds.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 596, JSON.stringify(Object.fromEntries(kinds)));
  });
});
