/**
 * What IMAP needs from the edge — mailbox list, SELECT snapshot, FETCH metadata, raw octets with
 * byte ranges, STORE with MODSEQ — and that no account ever sees another's mail, against a real edge.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, FetchResult, MailboxList, MailboxSnapshot, StoreFlagsResult } from "../../common/contract.ts";
import { deliver, minimalIndex, sampleMessage, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("mailboxes and messages", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  let aliceInbox: number;
  const raws = [sampleMessage("one"), sampleMessage("two"), sampleMessage("three")];
  const select = (account: Account, name: string) =>
    edge.relay<MailboxSnapshot>("POST", `/accounts/${account.id}/mailboxes/select`, { name });
  const flags = (uids: number[], mode: string, list: string[], mailbox = aliceInbox, account = alice) =>
    edge.relay<StoreFlagsResult>("POST", `/accounts/${account.id}/mailboxes/${mailbox}/messages/flags`, { uids, mode, flags: list });

  before(async () => {
    edge = await startTestEdge();
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 201);
    alice = (await edge.admin<Account>("POST", "/accounts", { address: "alice@example.org", password: "correct horse" })).body;
    bob = (await edge.admin<Account>("POST", "/accounts", { address: "bob@example.org", password: "battery staple" })).body;
    for (const [i, raw] of raws.entries()) {
      const { reply } = await deliver(edge, raw, ["alice@example.org"], `mbx-delivery-${i}-0001`);
      assert.equal(reply.status, 200);
      aliceInbox = reply.body.stored[0]!.mailboxId;
    }
  });
  after(async () => {
    await edge?.stop();
  });

  it("lists an account's mailboxes, and answers 404 not_found for an unknown account", async () => {
    const r = await edge.relay<MailboxList>("GET", `/accounts/${alice.id}/mailboxes`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.mailboxes.map((m) => m.name), ["INBOX", "Sent", "Drafts", "Junk", "Trash"]);
    assert.ok(r.body.mailboxes.every((m) => m.subscribed));
    const missing = await edge.relay("GET", "/accounts/999999/mailboxes");
    assert.equal(missing.status, 404);
    assert.equal(missing.error?.code, "not_found");
  });

  it("selects INBOX by any case, with every message's UID, flags and MODSEQ ascending", async () => {
    const r = await select(alice, "inbox");
    assert.equal(r.status, 200);
    assert.equal(r.body.mailbox.name, "INBOX");
    assert.equal(r.body.mailbox.role, "inbox");
    assert.equal(r.body.mailbox.uidnext, 4);
    assert.deepEqual(r.body.messages.map((m) => m.uid), [1, 2, 3]);
    assert.deepEqual(r.body.messages.map((m) => m.flags), [[], [], []]);
    const modseqs = r.body.messages.map((m) => m.modseq);
    assert.deepEqual([...modseqs].sort((a, b) => a - b), modseqs);
    assert.equal(r.body.mailbox.highestmodseq, modseqs.at(-1));
  });

  it("selects other mailboxes by exact name only", async () => {
    const sent = await select(alice, "Sent");
    assert.equal(sent.status, 200);
    assert.equal(sent.body.mailbox.role, "sent");
    assert.deepEqual(sent.body.messages, []);
    const wrongCase = await select(alice, "sent");
    assert.equal(wrongCase.status, 404);
    assert.equal(wrongCase.error?.code, "no_such_mailbox");
    assert.equal(wrongCase.error?.imap, "NONEXISTENT");
  });

  it("fetches metadata for the UIDs that exist, ascending, with the index given at delivery", async () => {
    const r = await edge.relay<FetchResult>("POST", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/fetch`, { uids: [3, 99, 1, 1] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.messages.map((m) => m.uid), [1, 3]);
    const first = r.body.messages[0]!;
    const expected = minimalIndex(raws[0]!);
    assert.equal(first.size, raws[0]!.byteLength);
    assert.deepEqual(first.index, { size: expected.size, headerSize: expected.headerSize, envelope: expected.envelope, body: expected.body });
    assert.ok(Math.abs(first.internalDate - Date.now()) < 60_000);
  });

  it("fetches a UID set larger than D1's bound-parameter limit in one call", async () => {
    const uids = Array.from({ length: 5000 }, (_, i) => i + 1);
    const r = await edge.relay<FetchResult>("POST", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/fetch`, { uids });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.messages.map((m) => m.uid), [1, 2, 3]);
  });

  it("streams a message's raw octets with Content-Length", async () => {
    const res = await edge.relayRaw("GET", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/2/raw`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(raws[1]!.byteLength));
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), raws[1]);
  });

  it("serves a byte range with 206, Content-Range and Content-Length", async () => {
    const raw = raws[1]!;
    const res = await edge.relayRaw("GET", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/2/raw`, { headers: { range: "bytes=6-20" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-length"), "15");
    assert.equal(res.headers.get("content-range"), `bytes 6-20/${raw.byteLength}`);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), raw.subarray(6, 21));

    const tail = await edge.relayRaw("GET", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/2/raw`, { headers: { range: `bytes=${raw.byteLength - 5}-` } });
    assert.equal(tail.status, 206);
    assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), raw.subarray(raw.byteLength - 5));

    const past = await edge.relayRaw("GET", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/2/raw`, { headers: { range: `bytes=${raw.byteLength}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${raw.byteLength}`);
    await past.body?.cancel();
  });

  it("answers 404 for a UID that is not in the mailbox", async () => {
    const res = await edge.relayRaw("GET", `/accounts/${alice.id}/mailboxes/${aliceInbox}/messages/42/raw`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });

  it("adds flags in a stable order, giving changed messages one new MODSEQ", async () => {
    const before = (await select(alice, "INBOX")).body;
    const r = await flags([1, 2], "add", ["$Forwarded", "\\seen", "\\Recent", "\\Flagged"]);
    assert.equal(r.status, 200);
    const next = before.mailbox.highestmodseq + 1;
    assert.deepEqual(r.body, {
      highestmodseq: next,
      updated: [
        { uid: 1, flags: ["\\Flagged", "\\Seen", "$Forwarded"], modseq: next },
        { uid: 2, flags: ["\\Flagged", "\\Seen", "$Forwarded"], modseq: next },
      ],
      modified: [],
    });
    const after = (await select(alice, "INBOX")).body;
    assert.equal(after.mailbox.highestmodseq, next);
    assert.deepEqual(after.messages[2], before.messages[2], "message 3 is untouched");
  });

  it("leaves MODSEQ alone when nothing changes", async () => {
    const before = (await select(alice, "INBOX")).body.mailbox.highestmodseq;
    const r = await flags([1, 2], "add", ["\\SEEN", "$forwarded"]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { highestmodseq: before, updated: [], modified: [] });
  });

  it("removes and replaces flags, case-insensitively, keeping keyword order", async () => {
    const removed = await flags([1], "remove", ["\\FLAGGED", "$forwarded"]);
    assert.deepEqual(removed.body.updated.map((m) => m.flags), [["\\Seen"]]);
    const replaced = await flags([1, 3], "replace", ["Work", "\\Deleted", "$Junk", "\\Answered", "work"]);
    assert.deepEqual(
      replaced.body.updated.map((m) => [m.uid, m.flags]),
      [
        [1, ["\\Answered", "\\Deleted", "Work", "$Junk"]],
        [3, ["\\Answered", "\\Deleted", "Work", "$Junk"]],
      ],
    );
    const snap = (await select(alice, "INBOX")).body;
    assert.deepEqual(snap.messages.map((m) => m.flags), [
      ["\\Answered", "\\Deleted", "Work", "$Junk"],
      ["\\Flagged", "\\Seen", "$Forwarded"],
      ["\\Answered", "\\Deleted", "Work", "$Junk"],
    ]);
    assert.equal(snap.mailbox.highestmodseq, replaced.body.highestmodseq);
  });

  it("gives concurrent flag changes distinct MODSEQs and loses none of them", async () => {
    const keywords = ["k1", "k2", "k3", "k4", "k5"];
    const replies = await Promise.all(keywords.map((k) => flags([2], "add", [k])));
    for (const r of replies) assert.equal(r.status, 200);
    const snap = (await select(alice, "INBOX")).body;
    const m2 = snap.messages.find((m) => m.uid === 2)!;
    for (const k of keywords) assert.ok(m2.flags.includes(k), `${k} kept`);
    assert.equal(new Set(replies.map((r) => r.body.highestmodseq)).size, keywords.length);
  });

  it("refuses an unknown system flag with 400", async () => {
    const r = await flags([1], "add", ["\\Important"]);
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
  });

  it("never lets another account select, fetch, read or flag a mailbox, even by its id", async () => {
    const bobInbox = (await select(bob, "INBOX")).body;
    assert.equal(bobInbox.messages.length, 0, "bob's own INBOX is empty");
    const fetch = await edge.relay("POST", `/accounts/${bob.id}/mailboxes/${aliceInbox}/messages/fetch`, { uids: [1, 2, 3] });
    assert.equal(fetch.status, 404);
    assert.equal(fetch.error?.code, "no_such_mailbox");
    const raw = await edge.relayRaw("GET", `/accounts/${bob.id}/mailboxes/${aliceInbox}/messages/1/raw`);
    assert.equal(raw.status, 404);
    await raw.body?.cancel();
    const store = await flags([1], "add", ["\\Seen"], aliceInbox, bob);
    assert.equal(store.status, 404);
    assert.equal(store.error?.code, "no_such_mailbox");
    const list = await edge.relay<MailboxList>("GET", `/accounts/${bob.id}/mailboxes`);
    assert.ok(!list.body.mailboxes.some((m) => m.id === aliceInbox));
    // And alice's mail is unchanged by the attempt.
    const aliceSnap = (await select(alice, "INBOX")).body;
    assert.ok(!aliceSnap.messages[0]!.flags.includes("\\Seen"));
  });

  it("answers no_such_mailbox for a mailbox id that does not exist or is not a number", async () => {
    for (const m of ["999999", "abc"]) {
      const r = await edge.relay("POST", `/accounts/${alice.id}/mailboxes/${m}/messages/fetch`, { uids: [1] });
      assert.equal(r.status, 404, m);
      assert.equal(r.error?.code, "no_such_mailbox");
    }
  });
});
