/**
 * The changes feed piggybacked on fetch, flags and search (`sinceModseq` in the request,
 * `changes` in the answer): what lets the relay spend one edge round trip per IMAP command.
 * The answer must be what `POST .../changes` answers for the same MODSEQ, read AFTER the
 * operation (a flags call's own change included), and absent when not asked for.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, ChangesResult, ExpungeResult, FetchResult, MailboxSnapshot, SearchResult, StoreFlagsResult } from "../../common/contract.ts";
import { createAccounts, deliver, sampleMessage, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("changes piggybacked on fetch, flags and search", () => {
  let edge: TestEdge;
  let alice: Account;
  let inbox: number;
  const base = () => `/accounts/${alice.id}/mailboxes`;
  const select = () => edge.relay<MailboxSnapshot>("POST", `${base()}/select`, { name: "INBOX" });
  const changes = (sinceModseq: number) => edge.relay<ChangesResult>("POST", `${base()}/${inbox}/changes`, { sinceModseq });
  const store = (body: Record<string, unknown>) => edge.relay<StoreFlagsResult>("POST", `${base()}/${inbox}/messages/flags`, body);
  const fetch = (body: Record<string, unknown>) => edge.relay<FetchResult>("POST", `${base()}/${inbox}/messages/fetch`, body);
  const search = (body: Record<string, unknown>) => edge.relay<SearchResult>("POST", `${base()}/${inbox}/messages/search`, body);
  const expunge = (uids: number[]) => edge.relay<ExpungeResult>("POST", `${base()}/${inbox}/messages/expunge`, { uids });

  before(async () => {
    edge = await startTestEdge();
    alice = (await createAccounts(edge, ["alice@example.org"]))[0]!;
    for (let i = 1; i <= 5; i++) {
      const { reply } = await deliver(edge, sampleMessage(`pig-${i}`), ["alice@example.org"], `pig-delivery-${i}`);
      assert.equal(reply.status, 200);
      inbox = reply.body.stored[0]!.mailboxId;
    }
  });
  after(async () => {
    await edge?.stop();
  });

  /** Another session's work after `since`: a flag change, an expunge and a new message. */
  async function othersChange(tag: string): Promise<void> {
    assert.equal((await store({ uids: [2], mode: "add", flags: ["$Other"] })).status, 200);
    assert.equal((await store({ uids: [4], mode: "add", flags: ["\\Deleted"] })).status, 200);
    assert.equal((await expunge([4])).status, 200);
    const { reply } = await deliver(edge, sampleMessage(tag), ["alice@example.org"], `pig-delivery-${tag}`);
    assert.equal(reply.status, 200);
  }

  it("answers no changes unless sinceModseq is given", async () => {
    const f = await fetch({ uids: [1] });
    assert.equal(f.status, 200);
    assert.equal(f.body.changes, undefined);
    const s = await store({ uids: [1], mode: "add", flags: ["$None"] });
    assert.equal(s.status, 200);
    assert.equal(s.body.changes, undefined);
    const q = await search({ criteria: { op: "all" } });
    assert.equal(q.status, 200);
    assert.equal(q.body.changes, undefined);
  });

  it("fetch: answers the changes feed since the MODSEQ, read after the fetch", async () => {
    const since = (await select()).body.mailbox.highestmodseq;
    await othersChange("pig-fetch");
    const f = await fetch({ uids: [1, 2, 3], sinceModseq: since });
    assert.equal(f.status, 200);
    assert.deepEqual(f.body.messages.map((m) => m.uid), [1, 2, 3]);
    assert.deepEqual(f.body.changes, (await changes(since)).body);
    assert.deepEqual(f.body.changes!.expunged, [4]);
    assert.ok(f.body.changes!.messages.some((m) => m.uid === 2 && m.flags.includes("$Other")));
    assert.ok(f.body.changes!.messages.some((m) => m.uid === 6));
    // Nothing changed since the mailbox's own MODSEQ: an empty feed, with the mailbox.
    const top = f.body.changes!.mailbox.highestmodseq;
    const idle = await fetch({ uids: [1], sinceModseq: top });
    assert.deepEqual(idle.body.changes, { mailbox: f.body.changes!.mailbox, messages: [], expunged: [] });
  });

  it("flags: the answer includes the call's own change, as a changes call made after it would", async () => {
    const since = (await select()).body.mailbox.highestmodseq;
    const s = await store({ uids: [1, 3], mode: "add", flags: ["\\Flagged"], sinceModseq: since });
    assert.equal(s.status, 200);
    const feed = s.body.changes!;
    assert.deepEqual(feed, (await changes(since)).body);
    assert.equal(feed.mailbox.highestmodseq, s.body.highestmodseq);
    assert.deepEqual(feed.messages, s.body.updated);
    // With UNCHANGEDSINCE failing for every message, nothing changes and the feed says so.
    const t = await store({ uids: [1], mode: "add", flags: ["$Never"], unchangedSince: 0, sinceModseq: s.body.highestmodseq });
    assert.deepEqual(t.body.modified, [1]);
    assert.deepEqual(t.body.changes!.messages, []);
    assert.equal(t.body.changes!.mailbox.highestmodseq, s.body.highestmodseq);
  });

  it("search, sort and thread: answer the changes feed alongside the result", async () => {
    const since = (await select()).body.mailbox.highestmodseq;
    await othersChange("pig-search");
    const expected = (await changes(since)).body;
    const plain = await search({ criteria: { op: "all" }, sinceModseq: since });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.body.changes, expected);
    const sorted = await search({ criteria: { op: "all" }, sort: [{ key: "arrival", reverse: true }], sinceModseq: since });
    assert.deepEqual(sorted.body.uids, [...plain.body.uids].reverse());
    assert.deepEqual(sorted.body.changes, expected);
    const threaded = await search({ criteria: { op: "all" }, threadKeys: true, sinceModseq: since });
    assert.equal(threaded.body.threadKeys!.length, plain.body.uids.length);
    assert.deepEqual(threaded.body.changes, expected);
  });

  it("refuses a sinceModseq that is not a MODSEQ", async () => {
    for (const sinceModseq of [-1, 1.5, "7"]) {
      assert.equal((await fetch({ uids: [1], sinceModseq })).status, 400);
      assert.equal((await store({ uids: [1], mode: "add", flags: ["$X"], sinceModseq })).status, 400);
      assert.equal((await search({ criteria: { op: "all" }, sinceModseq })).status, 400);
    }
  });
});
