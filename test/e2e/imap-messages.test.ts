/**
 * Reading and changing messages over IMAP, as raw transcripts that pin the exact responses:
 * SEARCH with ESEARCH and SEARCHRES, SORT and THREAD, partial and BINARY fetches, CONDSTORE
 * (MODSEQ, UNCHANGEDSINCE, CHANGEDSINCE), QRESYNC (VANISHED), \Recent, and when changes made
 * by another session are told (never an EXPUNGE during FETCH, STORE or SEARCH by number).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function message(n: number, from: string, subject: string, date: string, extra = "", body = `Body of message ${n}.\r\n`): string {
  return (
    `From: ${from}\r\nTo: Demo <demo@edgemail.test>\r\nSubject: ${subject}\r\nDate: ${date}\r\n` +
    `Message-ID: <m${n}@example.org>\r\n${extra}\r\n${body}`
  );
}

/** Six messages: a little thread, distinct senders and dates, and one with MIME parts for BINARY. */
const MESSAGES = [
  message(1, "Carol <carol@example.org>", "Alpha", "Sat, 03 Jan 2026 10:00:00 +0000"),
  message(2, "Alice <alice@example.org>", "Re: Alpha", "Mon, 05 Jan 2026 10:00:00 +0000", "References: <m1@example.org>\r\n"),
  message(3, "Bob <bob@example.org>", "Beta", "Thu, 01 Jan 2026 10:00:00 +0000", "", "The quokkaberry is ripe.\r\n"),
  message(4, "Dave <dave@example.org>", "Re: Alpha", "Sun, 04 Jan 2026 10:00:00 +0000", "In-Reply-To: <m1@example.org>\r\n"),
  message(5, "Eve <eve@example.org>", "Gamma", "Fri, 02 Jan 2026 10:00:00 +0000", "References: <m1@example.org> <m2@example.org>\r\n"),
  message(
    6,
    "Zed <zed@example.org>",
    "Delta attachments",
    "Tue, 06 Jan 2026 10:00:00 +0000",
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n',
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
      "caf=C3=A9 na=\r\nive=20\r\n" +
      "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n" +
      "--b1\r\nContent-Type: application/x-odd\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n" +
      "--b1--\r\n",
  ),
];

async function login(stack: Stack): Promise<ImapTranscript> {
  const demo = stack.settings().demo;
  const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
  const r = await client.command(`LOGIN "${demo.address}" "${demo.password}"`);
  assert.match(r.tagged, /^A\d+ OK /);
  return client;
}

/** The untagged part of a response (everything before the tagged line). */
function untagged(r: { lines: string; tagged: string }): string {
  return r.lines.slice(0, r.lines.length - r.tagged.length - 2);
}

/** APPENDs with INTERNALDATE `day`-Feb-2026, so ARRIVAL order is the UID order. */
async function append(client: ImapTranscript, mailbox: string, raw: string, day: number): Promise<void> {
  const date = `"${String(day).padStart(2, "0")}-Feb-2026 10:00:00 +0000"`;
  const r = await client.command(`APPEND ${mailbox} () ${date} {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  assert.match(r.tagged, /^A\d+ OK /, r.lines);
}

function modseqOf(text: string, uid: number): number {
  const m = new RegExp(`UID ${uid} [^\\r\\n]*MODSEQ \\((\\d+)\\)`).exec(text);
  assert.ok(m, `MODSEQ of UID ${uid} in ${JSON.stringify(text)}`);
  return Number(m[1]);
}

describe("IMAP messages: search, sort, thread, fetch extensions", () => {
  let stack: Stack;
  let a: ImapTranscript;

  before(async () => {
    stack = await startTestStack();
    a = await login(stack);
    assert.match((await a.command("CREATE msgs")).tagged, /OK/);
    for (const [i, raw] of MESSAGES.entries()) await append(a, "msgs", raw, i + 1);
  });
  after(async () => {
    a?.close();
    await stack?.cleanup();
  });

  it("SELECT claims \\Recent; EXAMINE in another session then sees none", async () => {
    const r = await a.command("SELECT msgs");
    const text = untagged(r);
    assert.match(text, /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)\r\n/);
    assert.match(text, /\* 6 EXISTS\r\n\* 6 RECENT\r\n\* OK \[UNSEEN 1\] First unseen\.\r\n/);
    assert.match(text, /\* OK \[UIDNEXT 7\] Predicted next UID\r\n\* OK \[HIGHESTMODSEQ \d+\] Highest\r\n$/);
    assert.match(r.tagged, /OK \[READ-WRITE\] Select completed\./);
    const flags = await a.command("FETCH 1:2 (FLAGS)");
    assert.equal(untagged(flags), "* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Recent))\r\n");

    const b = await login(stack);
    try {
      const ex = await b.command("EXAMINE msgs");
      assert.match(untagged(ex), /\* 6 EXISTS\r\n\* 0 RECENT\r\n/);
      assert.match(ex.tagged, /OK \[READ-ONLY\]/);
      assert.equal(untagged(await b.command("FETCH 1 (FLAGS)")), "* 1 FETCH (FLAGS ())\r\n");
    } finally {
      b.close();
    }
  });

  it("SEARCH answers in the classic form, by sequence number or UID", async () => {
    assert.equal(untagged(await a.command('SEARCH FROM "example.org" NOT SUBJECT alpha')), "* SEARCH 3 5 6\r\n");
    assert.equal(untagged(await a.command("UID SEARCH BODY quokkaberry")), "* SEARCH 3\r\n");
    assert.equal(untagged(await a.command("UID SEARCH RECENT")), "* SEARCH 1 2 3 4 5 6\r\n");
    assert.equal(untagged(await a.command("SEARCH 2:4 SENTBEFORE 4-Jan-2026")), "* SEARCH 3\r\n");
    assert.equal(untagged(await a.command("UID SEARCH SUBJECT nothing-like-this")), "* SEARCH\r\n");
  });

  it("SEARCH CHARSET: UTF-8 and US-ASCII, anything else is NO [BADCHARSET]", async () => {
    assert.equal(untagged(await a.command("SEARCH CHARSET UTF-8 SUBJECT delta")), "* SEARCH 6\r\n");
    const r = await a.command("SEARCH CHARSET KOI8-R SUBJECT delta");
    assert.match(r.tagged, /^A\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /);
    assert.match((await a.command("SEARCH FROB")).tagged, /^A\d+ BAD /);
  });

  it("ESEARCH: RETURN (MIN MAX COUNT ALL), with the tag and UID", async () => {
    const r = await a.command("UID SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT alpha");
    assert.equal(untagged(r), `* ESEARCH (TAG "${r.tag}") UID MIN 1 MAX 4 ALL 1:2,4 COUNT 3\r\n`);
    const seq = await a.command("SEARCH RETURN (COUNT) ALL");
    assert.equal(untagged(seq), `* ESEARCH (TAG "${seq.tag}") COUNT 6\r\n`);
    const none = await a.command("SEARCH RETURN (MIN MAX) SUBJECT nothing-like-this");
    assert.equal(untagged(none), `* ESEARCH (TAG "${none.tag}")\r\n`);
    const all = await a.command("UID SEARCH RETURN () 2:3");
    assert.equal(untagged(all), `* ESEARCH (TAG "${all.tag}") UID ALL 2:3\r\n`);
  });

  it("SEARCHRES: SAVE keeps the result for $, in FETCH, SEARCH and STORE", async () => {
    const save = await a.command("UID SEARCH RETURN (SAVE) SUBJECT alpha");
    assert.equal(untagged(save), "");
    assert.equal(untagged(await a.command("UID FETCH $ (UID)")), "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 4 FETCH (UID 4)\r\n");
    assert.equal(untagged(await a.command("SEARCH $ SENTSINCE 5-Jan-2026")), "* SEARCH 2\r\n");
    const minmax = await a.command("UID SEARCH RETURN (SAVE MIN MAX) FROM example.org");
    assert.equal(untagged(minmax), `* ESEARCH (TAG "${minmax.tag}") UID MIN 1 MAX 6\r\n`);
    assert.equal(untagged(await a.command("UID SEARCH UID $")), "* SEARCH 1 6\r\n");
    assert.match((await a.command("UID SEARCH RETURN (SAVE) CHARSET NOPE ALL")).tagged, /NO \[BADCHARSET/);
    assert.equal(untagged(await a.command("UID SEARCH $")), "* SEARCH\r\n", "a failed SAVE leaves $ empty");
  });

  it("SORT: by date, reverse date, sender and subject, by number or UID", async () => {
    assert.equal(untagged(await a.command("SORT (DATE) UTF-8 ALL")), "* SORT 3 5 1 4 2 6\r\n");
    assert.equal(untagged(await a.command("SORT (REVERSE DATE) UTF-8 ALL")), "* SORT 6 2 4 1 5 3\r\n");
    assert.equal(untagged(await a.command("UID SORT (FROM) UTF-8 ALL")), "* SORT 2 3 1 4 5 6\r\n");
    assert.equal(untagged(await a.command("SORT (SUBJECT) US-ASCII ALL")), "* SORT 1 2 4 3 6 5\r\n");
    assert.equal(untagged(await a.command("SORT (REVERSE ARRIVAL) UTF-8 SUBJECT alpha")), "* SORT 4 2 1\r\n");
    assert.match((await a.command("SORT (DATE) KOI8-R ALL")).tagged, /NO \[BADCHARSET/);
    assert.match((await a.command("SORT (REVERSE) UTF-8 ALL")).tagged, /BAD/);
  });

  it("THREAD=REFERENCES and THREAD=ORDEREDSUBJECT", async () => {
    assert.equal(untagged(await a.command("THREAD REFERENCES UTF-8 ALL")), "* THREAD (3)(1 (4)(2 5))(6)\r\n");
    assert.equal(untagged(await a.command("UID THREAD ORDEREDSUBJECT UTF-8 ALL")), "* THREAD (3)(5)(1 (4)(2))(6)\r\n");
    assert.equal(untagged(await a.command("THREAD REFERENCES UTF-8 SUBJECT nothing-like-this")), "* THREAD\r\n");
    assert.match((await a.command("THREAD SPAGHETTI UTF-8 ALL")).tagged, /BAD/);
  });

  it("partial fetches cut the section, and past the end read as empty", async () => {
    assert.equal(untagged(await a.command("FETCH 3 (BODY.PEEK[TEXT]<4.9>)")), "* 3 FETCH (BODY[TEXT]<4> {9}\r\nquokkaber)\r\n");
    assert.equal(untagged(await a.command("UID FETCH 3 (BODY.PEEK[TEXT]<20.100>)")), "* 3 FETCH (UID 3 BODY[TEXT]<20> {6}\r\nipe.\r\n)\r\n");
    assert.equal(untagged(await a.command("FETCH 3 (BODY.PEEK[TEXT]<500.10>)")), "* 3 FETCH (BODY[TEXT]<500> {0}\r\n)\r\n");
  });

  it("BINARY decodes quoted-printable and base64, literal8 when NUL is inside", async () => {
    assert.equal(untagged(await a.command("FETCH 6 (BINARY.PEEK[1])")), "* 6 FETCH (BINARY[1] {12}\r\ncaf\xc3\xa9 naive )\r\n");
    assert.equal(
      untagged(await a.command("UID FETCH 6 (BINARY.PEEK[2] BINARY.SIZE[2])")),
      "* 6 FETCH (UID 6 BINARY.SIZE[2] 10 BINARY[2] ~{10}\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09)\r\n",
      "items without literals come first",
    );
    assert.equal(untagged(await a.command("FETCH 6 (BINARY.PEEK[2]<2.3>)")), "* 6 FETCH (BINARY[2]<2> {3}\r\n\x02\x03\x04)\r\n");
    assert.equal(untagged(await a.command("FETCH 6 (BINARY.SIZE[1])")), "* 6 FETCH (BINARY.SIZE[1] 12)\r\n");
    const odd = await a.command("FETCH 6 (BINARY.PEEK[3])");
    assert.equal(untagged(odd), "");
    assert.match(odd.tagged, /^A\d+ NO \[UNKNOWN-CTE\] /);
    assert.match((await a.command("FETCH 6 (BINARY[1.MIME])")).tagged, /BAD/);
    assert.equal(untagged(await a.command("FETCH 6 (FLAGS)")), "* 6 FETCH (FLAGS (\\Recent))\r\n", "PEEK set no \\Seen");
  });

  it("CONDSTORE: MODSEQ in FETCH, STORE UNCHANGEDSINCE succeeds once then reports MODIFIED", async () => {
    const before = await a.command("UID FETCH 1:* (MODSEQ)");
    const m0 = modseqOf(untagged(before), 1);
    const top = Math.max(...[1, 2, 3, 4, 5, 6].map((uid) => modseqOf(untagged(before), uid)));
    assert.match(untagged(before), new RegExp(`^\\* 1 FETCH \\(UID 1 MODSEQ \\(${m0}\\)\\)\\r\\n`));
    const ok = await a.command(`STORE 1 (UNCHANGEDSINCE ${m0}) +FLAGS (\\Flagged)`);
    const m1 = modseqOf(untagged(ok), 1);
    assert.ok(m1 > top);
    assert.equal(untagged(ok), `* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) MODSEQ (${m1}))\r\n`);
    assert.match(ok.tagged, /OK Store completed/);
    const stale = await a.command(`UID STORE 1,2 (UNCHANGEDSINCE ${top}) -FLAGS (\\Flagged)`);
    assert.match(stale.tagged, /^A\d+ OK \[MODIFIED 1\] /);
    assert.doesNotMatch(untagged(stale), /^\* 1 FETCH/m, "the message that failed the test is not echoed");
    const changed = await a.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${top})`);
    assert.match(untagged(changed), new RegExp(`^\\* 1 FETCH \\(UID 1 FLAGS \\(\\\\Flagged \\\\Recent\\) MODSEQ \\(${m1}\\)\\)\\r\\n`));
    assert.doesNotMatch(untagged(changed), /UID 3 /, "unchanged messages are left out");
    const search = await a.command(`UID SEARCH MODSEQ ${m1}`);
    assert.match(untagged(search), /^\* SEARCH 1( 2)? \(MODSEQ \d+\)\r\n$/);
  });

  it("a new keyword is announced with FLAGS and PERMANENTFLAGS before the FETCH", async () => {
    const r = await a.command("STORE 3 +FLAGS ($Important)");
    assert.match(
      untagged(r),
      /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Important\)\r\n\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Important \\\*\)\] Flags permitted\.\r\n\* 3 FETCH \(UID 3 FLAGS \(\\Recent \$Important\) MODSEQ \(\d+\)\)\r\n$/,
    );
    assert.match((await a.command("STORE 3 +FLAGS (\\Recent)")).tagged, /BAD/);
  });
});

describe("IMAP messages: an IMAP4rev2 session", () => {
  let stack: Stack;
  let c: ImapTranscript;
  let rev2 = false;

  before(async () => {
    stack = await startTestStack();
    c = await login(stack);
    assert.match((await c.command("CREATE box")).tagged, /OK/);
    for (const [i, raw] of MESSAGES.slice(0, 3).entries()) await append(c, "box", raw, i + 1);
    const enabled = await c.command("ENABLE IMAP4rev2");
    rev2 = /^\* ENABLED IMAP4rev2\r\n/i.test(untagged(enabled));
  });
  after(async () => {
    c?.close();
    await stack?.cleanup();
  });

  it("SELECT: no RECENT, no UNSEEN, a LIST response; FETCH: no \\Recent; SEARCH answers with ESEARCH", async (t) => {
    if (!rev2) return t.skip("IMAP4rev2 is not advertised yet");
    const sel = await c.command("SELECT box");
    assert.doesNotMatch(untagged(sel), /RECENT|UNSEEN/);
    assert.match(untagged(sel), /\* 3 EXISTS\r\n/);
    assert.match(untagged(sel), /\* LIST \([^)]*\) "\/" box\r\n/);
    assert.equal(untagged(await c.command("FETCH 1 (FLAGS)")), "* 1 FETCH (FLAGS ())\r\n");
    const search = await c.command("SEARCH ALL");
    assert.equal(untagged(search), `* ESEARCH (TAG "${search.tag}") ALL 1:3\r\n`);
    const uid = await c.command("UID SEARCH SUBJECT nothing-like-this");
    assert.equal(untagged(uid), `* ESEARCH (TAG "${uid.tag}") UID\r\n`);
  });
});

describe("IMAP messages: two sessions on one mailbox", () => {
  let stack: Stack;
  let a: ImapTranscript;
  let b: ImapTranscript;

  before(async () => {
    stack = await startTestStack();
    a = await login(stack);
    b = await login(stack);
    assert.match((await a.command("CREATE shared")).tagged, /OK/);
    for (const [i, raw] of MESSAGES.slice(0, 4).entries()) await append(a, "shared", raw, i + 1);
    await a.command("SELECT shared");
    await b.command("SELECT shared");
  });
  after(async () => {
    a?.close();
    b?.close();
    await stack?.cleanup();
  });

  it("a flag change by one is seen by the other at its next NOOP", async () => {
    await a.command("STORE 2 +FLAGS.SILENT (\\Seen)");
    assert.equal(untagged(await b.command("NOOP")), "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n");
    assert.equal(untagged(await b.command("NOOP")), "", "told once");
  });

  it("an expunge waits while the other runs FETCH, STORE or SEARCH by number, and comes with the UID forms", async () => {
    await a.command("STORE 1 +FLAGS.SILENT (\\Deleted)");
    const ex = await a.command("EXPUNGE");
    assert.match(untagged(ex), /^\* 1 EXPUNGE\r\n/);
    const fetch = await b.command("FETCH 1:4 (UID)");
    assert.doesNotMatch(untagged(fetch), /EXPUNGE/);
    assert.match(untagged(fetch), /\* 2 FETCH \(UID 2\)\r\n/, "sequence numbers are unchanged until told");
    assert.doesNotMatch(untagged(await b.command("SEARCH ALL")), /EXPUNGE/);
    const uidFetch = await b.command("UID FETCH 2 (UID)");
    assert.equal(untagged(uidFetch), "* 2 FETCH (UID 2)\r\n* 1 EXPUNGE\r\n");
    assert.equal(untagged(await b.command("FETCH 1 (UID)")), "* 1 FETCH (UID 2)\r\n");
  });

  it("new mail appended by one is announced to the other with EXISTS", async () => {
    await append(a, "shared", MESSAGES[4]!, 5);
    assert.equal(untagged(await b.command("NOOP")), "* 4 EXISTS\r\n");
  });

  it("QRESYNC: VANISHED for the other's expunges, and CHANGEDSINCE ... VANISHED", async () => {
    const q = await login(stack);
    try {
      assert.match(untagged(await q.command("ENABLE QRESYNC")), /^\* ENABLED QRESYNC\r\n/);
      const sel = await q.command("SELECT shared");
      const uidvalidity = Number(/UIDVALIDITY (\d+)/.exec(sel.lines)![1]);
      const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.lines)![1]);
      await a.command("UID STORE 3 +FLAGS.SILENT (\\Deleted)");
      await a.command("UID EXPUNGE 3");
      await a.command("UID STORE 4 +FLAGS.SILENT (\\Answered)");
      const noop = await q.command("NOOP");
      assert.match(untagged(noop), /^\* VANISHED 3\r\n\* \d FETCH \(UID 4 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)\r\n$/);
      const changed = await q.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`);
      assert.match(untagged(changed), /^\* VANISHED \(EARLIER\) 3\r\n\* 2 FETCH \(UID 4 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)\r\n$/);
      assert.match((await q.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`)).tagged, /BAD/);

      // A reconnecting client resynchronises in its SELECT.
      const r = await login(stack);
      try {
        await r.command("ENABLE QRESYNC");
        const resync = await r.command(`SELECT shared (QRESYNC (${uidvalidity} ${highest} 1:10))`);
        assert.match(untagged(resync), /\* VANISHED \(EARLIER\) 3\r\n\* 2 FETCH \(UID 4 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)\r\n$/);
        const wrong = await r.command(`SELECT shared (QRESYNC (${uidvalidity + 1} ${highest}))`);
        assert.match(untagged(wrong), /^\* OK \[CLOSED\] /);
        assert.doesNotMatch(untagged(wrong), /VANISHED|FETCH/, "another UIDVALIDITY: no resync data");
      } finally {
        r.close();
      }
    } finally {
      q.close();
    }
  });

  it("QRESYNC in SELECT needs ENABLE QRESYNC first", async () => {
    const c = await login(stack);
    try {
      assert.match((await c.command("SELECT shared (QRESYNC (1 1))")).tagged, /^A\d+ BAD /);
      const cs = await c.command("SELECT shared (CONDSTORE)");
      assert.match(untagged(cs), /\* OK \[HIGHESTMODSEQ \d+\] /);
      assert.match(untagged(await c.command("FETCH 1 (FLAGS)")), /^\* 1 FETCH \(FLAGS \([^)]*\)\)\r\n$/);
    } finally {
      c.close();
    }
  });
});
