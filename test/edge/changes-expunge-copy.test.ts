/**
 * The changes feed, EXPUNGE with its tombstones, COPY/MOVE and STORE UNCHANGEDSINCE against a
 * real edge: what CONDSTORE/QRESYNC, UIDPLUS and MOVE clients are told, and that a message is
 * never in both mailboxes of a MOVE or in neither.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Account,
  ChangesResult,
  CopyResult,
  ExpungeResult,
  FetchResult,
  Mailbox,
  MailboxSnapshot,
  StoreFlagsResult,
} from "../../common/contract.ts";
import { createAccounts, deliver, sampleMessage, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("changes, expunge, copy and move", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  let inbox: number;
  const base = (account = alice) => `/accounts/${account.id}/mailboxes`;
  const select = (name: string) => edge.relay<MailboxSnapshot>("POST", `${base()}/select`, { name });
  const changes = (mailbox: number, sinceModseq: number) =>
    edge.relay<ChangesResult>("POST", `${base()}/${mailbox}/changes`, { sinceModseq });
  const store = (uids: number[], mode: string, flags: string[], unchangedSince?: number) =>
    edge.relay<StoreFlagsResult>("POST", `${base()}/${inbox}/messages/flags`, {
      uids,
      mode,
      flags,
      ...(unchangedSince === undefined ? {} : { unchangedSince }),
    });
  const expunge = (mailbox: number, uids?: number[]) =>
    edge.relay<ExpungeResult>("POST", `${base()}/${mailbox}/messages/expunge`, uids ? { uids } : {});
  const copy = (mailbox: number, uids: number[], target: string, move = false, account = alice) =>
    edge.relay<CopyResult>("POST", `${base(account)}/${mailbox}/messages/copy`, { uids, target, move });
  const fetch = (mailbox: number, uids: number[]) =>
    edge.relay<FetchResult>("POST", `${base()}/${mailbox}/messages/fetch`, { uids });

  before(async () => {
    edge = await startTestEdge();
    const accounts = await createAccounts(edge, ["alice@example.org", "bob@example.org"]);
    alice = accounts[0]!;
    bob = accounts[1]!;
    for (let i = 1; i <= 8; i++) {
      const { reply } = await deliver(edge, sampleMessage(`cec-${i}`), ["alice@example.org"], `cec-delivery-${i}`);
      assert.equal(reply.status, 200);
      inbox = reply.body.stored[0]!.mailboxId;
    }
    assert.equal((await edge.relay<Mailbox>("POST", base(), { name: "Archive" })).status, 200);
  });
  after(async () => {
    await edge?.stop();
  });

  it("reports every message as changed since MODSEQ 0, ascending, with no expunges", async () => {
    const r = await changes(inbox, 0);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.messages.map((m) => m.uid), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(r.body.expunged, []);
    assert.equal(r.body.mailbox.name, "INBOX");
    assert.equal(r.body.mailbox.highestmodseq, Math.max(...r.body.messages.map((m) => m.modseq)));
  });

  it("reports only what changed after the given MODSEQ", async () => {
    const before = (await select("INBOX")).body.mailbox.highestmodseq;
    const stored = await store([2, 5], "add", ["\\Seen"]);
    const r = await changes(inbox, before);
    assert.deepEqual(r.body.messages, stored.body.updated);
    assert.deepEqual((await changes(inbox, stored.body.highestmodseq)).body.messages, []);
  });

  it("leaves a message alone when its MODSEQ is above UNCHANGEDSINCE, and lists it as modified", async () => {
    const snapshot = (await select("INBOX")).body;
    const m2 = snapshot.messages.find((m) => m.uid === 2)!;
    const m3 = snapshot.messages.find((m) => m.uid === 3)!;
    const since = Math.max(m3.modseq, m2.modseq - 1);
    assert.ok(m2.modseq > since && m3.modseq <= since);
    const r = await store([2, 3, 99], "add", ["$Checked"], since);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.modified, [2]);
    assert.deepEqual(r.body.updated.map((m) => m.uid), [3]);
    const after = (await select("INBOX")).body.messages;
    assert.deepEqual(after.find((m) => m.uid === 2), m2, "message 2 untouched");
    // Passing the test with nothing to change is neither updated nor modified.
    const again = await store([3], "add", ["$Checked"], r.body.highestmodseq);
    assert.deepEqual([again.body.updated, again.body.modified], [[], []]);
  });

  it("expunges only \\Deleted messages, only among the given UIDs, with one new MODSEQ and tombstones", async () => {
    const deleted = await store([4, 6, 7], "add", ["\\Deleted"]);
    const r = await expunge(inbox, [4, 6, 8]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.expunged, [4, 6]);
    assert.equal(r.body.highestmodseq, deleted.body.highestmodseq + 1);
    const snap = (await select("INBOX")).body;
    assert.deepEqual(snap.messages.map((m) => m.uid), [1, 2, 3, 5, 7, 8]);
    assert.equal(snap.mailbox.highestmodseq, r.body.highestmodseq);
    const feed = await changes(inbox, deleted.body.highestmodseq);
    assert.deepEqual(feed.body.expunged, [4, 6]);
    assert.deepEqual(feed.body.messages, []);
    assert.deepEqual((await changes(inbox, r.body.highestmodseq)).body.expunged, [], "tombstones carry the expunge's MODSEQ");
  });

  it("expunges every \\Deleted message without UIDs, and changes nothing when there is none", async () => {
    const r = await expunge(inbox);
    assert.deepEqual(r.body.expunged, [7]);
    const idle = await expunge(inbox);
    assert.deepEqual(idle.body, { expunged: [], highestmodseq: r.body.highestmodseq });
    const raw = await edge.relayRaw("GET", `${base()}/${inbox}/messages/7/raw`);
    assert.equal(raw.status, 404);
    await raw.body?.cancel();
  });

  it("copies with consecutive new UIDs, the same flags, date, size and bytes, skipping absent UIDs", async () => {
    const source = await fetch(inbox, [1, 2, 3]);
    const r = await copy(inbox, [3, 1, 2, 4, 99], "Archive");
    assert.equal(r.status, 200);
    const archive = (await select("Archive")).body;
    assert.equal(r.body.uidvalidity, archive.mailbox.uidvalidity);
    assert.deepEqual(r.body.mapping, [
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    assert.equal(archive.mailbox.uidnext, 4);
    assert.deepEqual(new Set(archive.messages.map((m) => m.modseq)).size, 1, "one new MODSEQ for the whole copy");
    const copies = await fetch(archive.mailbox.id, [1, 2, 3]);
    for (const [i, m] of copies.body.messages.entries()) {
      const src = source.body.messages[i]!;
      assert.deepEqual([m.flags, m.internalDate, m.size, m.index], [src.flags, src.internalDate, src.size, src.index]);
    }
    const raw = await edge.relayRaw("GET", `${base()}/${archive.mailbox.id}/messages/1/raw`);
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), sampleMessage("cec-1"));
    // The source is unchanged by a copy.
    assert.deepEqual((await select("INBOX")).body.messages.map((m) => m.uid), [1, 2, 3, 5, 8]);
    assert.equal(r.body.highestmodseq, (await select("INBOX")).body.mailbox.highestmodseq);
  });

  it("copies into the same mailbox as new messages", async () => {
    const r = await copy(inbox, [8], "INBOX");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.mapping, [[8, 9]]);
  });

  it("answers 404 try_create (TRYCREATE) for a missing target, and does nothing when no UID exists", async () => {
    const r = await copy(inbox, [1], "Nowhere");
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "try_create");
    assert.equal(r.error?.imap, "TRYCREATE");
    const before = (await select("Archive")).body.mailbox;
    const none = await copy(inbox, [4, 6, 1000], "Archive");
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.mapping, []);
    assert.deepEqual((await select("Archive")).body.mailbox, before);
  });

  it("moves: new UIDs in the target, tombstones and one new MODSEQ in the source, in one step", async () => {
    const before = (await select("INBOX")).body.mailbox;
    const r = await copy(inbox, [5, 2], "Trash", true);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.mapping, [
      [2, 1],
      [5, 2],
    ]);
    assert.equal(r.body.highestmodseq, before.highestmodseq + 1);
    const after = (await select("INBOX")).body;
    assert.deepEqual(after.messages.map((m) => m.uid), [1, 3, 8, 9]);
    assert.equal(after.mailbox.highestmodseq, r.body.highestmodseq);
    const feed = await changes(inbox, before.highestmodseq);
    assert.deepEqual(feed.body.expunged, [2, 5]);
    const trash = (await select("Trash")).body;
    assert.deepEqual(trash.messages.map((m) => [m.uid, m.flags]), [
      [1, ["\\Seen"]],
      [2, ["\\Seen"]],
    ]);
    const raw = await edge.relayRaw("GET", `${base()}/${trash.mailbox.id}/messages/2/raw`);
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), sampleMessage("cec-5"));
  });

  it("refuses to move into the source mailbox (400 cannot)", async () => {
    const r = await copy(inbox, [1], "inbox", true);
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "cannot");
  });

  it("never lets another account see, expunge, copy or move a mailbox's messages", async () => {
    const foreign = await copy(inbox, [1], "INBOX", false, bob);
    assert.equal(foreign.error?.code, "no_such_mailbox");
    const moved = await copy(inbox, [1], "INBOX", true, bob);
    assert.equal(moved.error?.code, "no_such_mailbox");
    const gone = await edge.relay("POST", `${base(bob)}/${inbox}/messages/expunge`, {});
    assert.equal(gone.error?.code, "no_such_mailbox");
    const feed = await edge.relay("POST", `${base(bob)}/${inbox}/changes`, { sinceModseq: 0 });
    assert.equal(feed.status, 404);
    assert.equal(feed.error?.code, "no_such_mailbox");
    assert.deepEqual((await select("INBOX")).body.messages.map((m) => m.uid), [1, 3, 8, 9]);
  });
});
