/**
 * One edge round trip per IMAP command for metadata: FETCH, STORE, SEARCH, SORT and THREAD get
 * the changes feed (other sessions' changes, reported at the end of the command) piggybacked on
 * their own edge call instead of asking `changes` separately; NOOP asks it alone. Counted with
 * the relay's edge client (`edge.stats`) over the real stack.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function message(n: number, subject: string, extra = ""): string {
  return (
    `From: Sender ${n} <s${n}@example.org>\r\nTo: demo@edgemail.test\r\nSubject: ${subject}\r\n` +
    `Date: Mon, 0${n} Feb 2026 10:00:00 +0000\r\nMessage-ID: <calls${n}@example.org>\r\n${extra}\r\nBody ${n}.\r\n`
  );
}

async function login(stack: Stack): Promise<ImapTranscript> {
  const demo = stack.settings().demo;
  const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
  assert.match((await client.command(`LOGIN "${demo.address}" "${demo.password}"`)).tagged, /^A\d+ OK /);
  return client;
}

async function append(client: ImapTranscript, raw: string): Promise<void> {
  const r = await client.command(`APPEND calls () {${Buffer.byteLength(raw)}+}\r\n${raw}`);
  assert.match(r.tagged, /^A\d+ OK /, r.lines);
}

function untagged(r: { lines: string; tagged: string }): string {
  return r.lines.slice(0, r.lines.length - r.tagged.length - 2);
}

describe("IMAP: edge round trips per command", () => {
  let stack: Stack;
  let a: ImapTranscript;
  let b: ImapTranscript;

  /** Runs `command` in session `a` and returns its answer and what it cost at the edge. */
  async function counted(command: string, client = a) {
    const stats = stack.relay!.edge.stats;
    const before = { ...stats };
    const r = await client.command(command);
    assert.match(r.tagged, /^A\d+ OK /, `${command}: ${r.lines}`);
    return {
      r,
      text: untagged(r),
      requests: stats.requests - before.requests,
      rawReads: stats.rawReads - before.rawReads,
      writes: stats.writes - before.writes,
    };
  }

  before(async () => {
    stack = await startTestStack();
    a = await login(stack);
    b = await login(stack);
    assert.match((await a.command("CREATE calls")).tagged, /OK/);
    await append(a, message(1, "Alpha"));
    await append(a, message(2, "Re: Alpha", "References: <calls1@example.org>\r\n"));
    await append(a, message(3, "Beta"));
    assert.match((await a.command("SELECT calls")).tagged, /OK \[READ-WRITE\]/);
    assert.match((await b.command("SELECT calls")).tagged, /OK \[READ-WRITE\]/);
  });
  after(async () => {
    a?.close();
    b?.close();
    await stack?.cleanup();
  });

  it("each metadata command makes exactly one edge request", async () => {
    for (const command of [
      "UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)",
      "FETCH 1:* (FLAGS)",
      "UID STORE 1 +FLAGS (\\Flagged)",
      "UID SEARCH ALL",
      "SORT (DATE) UTF-8 ALL",
      "THREAD REFERENCES UTF-8 ALL",
      "NOOP",
    ]) {
      const { requests } = await counted(command);
      assert.equal(requests, 1, `${command} made ${requests} edge requests`);
    }
  });

  it("FETCH BODY[] makes one metadata request and one body read, plus the \\Seen write", async () => {
    // The implicit \Seen is a write (the flags call), not metadata; the changes feed rides on
    // it, so the fetch itself does not ask for it and no separate changes call is made.
    const { requests, rawReads, writes, text } = await counted("FETCH 1 BODY[]");
    assert.match(text, /^\* 1 FETCH \(FLAGS \(\\Flagged \\Seen \\Recent\) BODY\[\] \{\d+\}\r\n/);
    assert.equal(rawReads, 1, "one body read");
    assert.equal(writes, 1, "one flags call for the implicit \\Seen");
    assert.equal(requests, 3, "metadata fetch + body read + \\Seen write");
    // Once \Seen is set, no write: the changes feed rides on the fetch.
    const again = await counted("FETCH 1 BODY[]");
    assert.deepEqual([again.requests, again.rawReads, again.writes], [2, 1, 0]);
  });

  it("another session's changes are reported from the piggybacked feed, still in one request", async () => {
    // A flag change: a FETCH by the other session reports it.
    await counted("UID STORE 2 +FLAGS.SILENT (\\Answered)", b);
    const search = await counted("UID SEARCH ALL");
    assert.equal(search.requests, 1);
    assert.equal(search.text, "* SEARCH 1 2 3\r\n* 2 FETCH (UID 2 FLAGS (\\Answered \\Recent))\r\n");

    // New mail: EXISTS after the SORT response.
    await append(b, message(4, "Gamma"));
    const sort = await counted("UID SORT (SUBJECT) UTF-8 ALL");
    assert.equal(sort.requests, 1);
    assert.equal(sort.text, "* SORT 1 2 3\r\n* 4 EXISTS\r\n");

    // An expunge: held back by FETCH by sequence number (RFC 9051 §7.5.1), told by UID FETCH.
    await counted("UID STORE 3 +FLAGS.SILENT (\\Deleted)", b);
    await counted("EXPUNGE", b);
    const bySeq = await counted("FETCH 1 (UID)");
    assert.equal(bySeq.requests, 1);
    assert.equal(bySeq.text, "* 1 FETCH (UID 1)\r\n");
    const byUid = await counted("UID FETCH 1 (UID)");
    assert.equal(byUid.requests, 1);
    assert.equal(byUid.text, "* 1 FETCH (UID 1)\r\n* 3 EXPUNGE\r\n");

    // A STORE's own change is not echoed a second time by the feed that includes it.
    const store = await counted("STORE 1 -FLAGS (\\Flagged)");
    assert.equal(store.requests, 1);
    assert.equal(store.text, "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n");
    assert.equal((await counted("NOOP")).text, "");
  });
});
