/**
 * CREATE, DELETE, RENAME, SUBSCRIBE, STATUS and SELECT's \Recent claim against a real edge: the
 * hierarchy rules (superiors created, inferiors move along), Dovecot's choices where IMAP leaves
 * one, and the error codes the relay maps to ALREADYEXISTS, CANNOT and NONEXISTENT.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Account,
  AppendResult,
  ChangesResult,
  Mailbox,
  MailboxList,
  MailboxSnapshot,
  StatusResult,
  SubscriptionList,
} from "../../common/contract.ts";
import { appendMessage, createAccounts, deliver, sampleMessage, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("mailbox management", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  const path = (suffix: string, account = alice) => `/accounts/${account.id}${suffix}`;
  const create = (name: string, specialUse?: string, account = alice) =>
    edge.relay<Mailbox>("POST", path("/mailboxes", account), specialUse ? { name, specialUse } : { name });
  const remove = (name: string) => edge.relay("POST", path("/mailboxes/delete"), { name });
  const rename = (from: string, to: string) => edge.relay("POST", path("/mailboxes/rename"), { from, to });
  const list = async (account = alice) => (await edge.relay<MailboxList>("GET", path("/mailboxes", account))).body.mailboxes;
  const byName = async (name: string) => (await list()).find((m) => m.name === name);
  const select = (name: string, claimRecent?: boolean) =>
    edge.relay<MailboxSnapshot>("POST", path("/mailboxes/select"), claimRecent === undefined ? { name } : { name, claimRecent });
  const status = (names?: string[]) => edge.relay<StatusResult>("POST", path("/mailboxes/status"), names ? { names } : {});
  const subscriptions = async () => (await edge.relay<SubscriptionList>("GET", path("/subscriptions"))).body.names;
  const append = async (name: string, tags: string[], flags: string[] = []) =>
    edge.relay<AppendResult>("POST", path("/mailboxes/append"), {
      name,
      messages: await Promise.all(tags.map((t) => appendMessage(edge, sampleMessage(t), { flags }))),
    });

  before(async () => {
    edge = await startTestEdge();
    const accounts = await createAccounts(edge, ["alice@example.org", "bob@example.org"]);
    alice = accounts[0]!;
    bob = accounts[1]!;
  });
  after(async () => {
    await edge?.stop();
  });

  it("creates a mailbox and its missing superiors, all subscribed, with fresh counters", async () => {
    const r = await create("Projects/2026/Q1");
    assert.equal(r.status, 200);
    assert.equal(r.body.name, "Projects/2026/Q1");
    assert.equal(r.body.role, null);
    assert.equal(r.body.subscribed, true);
    assert.equal(r.body.uidnext, 1);
    assert.ok(r.body.uidvalidity > 0);
    const names = (await list()).map((m) => m.name);
    assert.deepEqual(names.slice(5), ["Projects", "Projects/2026", "Projects/2026/Q1"]);
    const subs = await subscriptions();
    for (const n of ["Projects", "Projects/2026", "Projects/2026/Q1"]) assert.ok(subs.includes(n), n);
  });

  it("creates below an existing superior without touching it", async () => {
    const before = await byName("Projects");
    assert.equal((await create("Projects/2025")).status, 200);
    assert.deepEqual(await byName("Projects"), before);
  });

  it("answers 409 already_exists (ALREADYEXISTS) for an existing name, INBOX in any case included", async () => {
    for (const name of ["Projects/2026", "inbox", "Sent"]) {
      const r = await create(name);
      assert.equal(r.status, 409, name);
      assert.equal(r.error?.code, "already_exists");
      assert.equal(r.error?.imap, "ALREADYEXISTS");
    }
  });

  it("treats names other than INBOX case-sensitively", async () => {
    const r = await create("projects");
    assert.equal(r.status, 200);
    assert.notEqual(r.body.id, (await byName("Projects"))!.id);
  });

  it("refuses names with empty hierarchy levels with 400 bad_request", async () => {
    for (const name of ["/lead", "trail/", "a//b", "/"]) {
      const r = await create(name);
      assert.equal(r.status, 400, name);
      assert.equal(r.error?.code, "bad_request");
    }
    assert.equal(await byName("a"), undefined, "nothing was created on the way");
  });

  it("sets a SPECIAL-USE role, one mailbox per role per account (else 400 cannot)", async () => {
    const archive = await create("Archive", "archive");
    assert.equal(archive.status, 200);
    assert.equal(archive.body.role, "archive");
    const second = await create("Old Archive", "archive");
    assert.equal(second.status, 400);
    assert.equal(second.error?.code, "cannot");
    assert.equal(second.error?.imap, "CANNOT");
    assert.equal((await create("Sent Items", "sent")).error?.code, "cannot");
    // Roles are per account: bob may have his own Archive.
    assert.equal((await create("Archive", "archive", bob)).status, 200);
  });

  it("answers 404 not_found for an unknown account", async () => {
    const r = await edge.relay("POST", "/accounts/999999/mailboxes", { name: "x" });
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "not_found");
  });

  it("refuses to delete INBOX, or a mailbox with inferiors (400 cannot), and an unknown one (404)", async () => {
    for (const name of ["INBOX", "inbox"]) {
      const r = await remove(name);
      assert.equal(r.status, 400);
      assert.equal(r.error?.code, "cannot");
    }
    const parent = await remove("Projects/2026");
    assert.equal(parent.error?.code, "cannot");
    const missing = await remove("Nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.error?.code, "no_such_mailbox");
  });

  it("deletes a mailbox with its messages, keeps its subscription, and a re-created one gets a new UIDVALIDITY", async () => {
    assert.equal((await create("Scratch")).status, 200);
    const appended = await append("Scratch", ["s1", "s2"]);
    assert.equal(appended.status, 200);
    const old = (await byName("Scratch"))!;
    const r = await remove("Scratch");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {});
    assert.equal((await select("Scratch")).error?.code, "no_such_mailbox");
    assert.ok((await subscriptions()).includes("Scratch"), "RFC 9051 §6.3.9: the subscription stays");
    const again = await create("Scratch");
    assert.equal(again.status, 200);
    assert.ok(again.body.uidvalidity > old.uidvalidity, "a re-created name never reuses a UIDVALIDITY");
    assert.equal(again.body.uidnext, 1);
    assert.deepEqual((await select("Scratch")).body.messages, []);
  });

  it("renames a mailbox with its inferiors, keeping ids, UIDVALIDITY and subscriptions", async () => {
    const before = await list();
    const r = await rename("Projects", "Work");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {});
    const after = await list();
    for (const [from, to] of [
      ["Projects", "Work"],
      ["Projects/2026", "Work/2026"],
      ["Projects/2026/Q1", "Work/2026/Q1"],
      ["Projects/2025", "Work/2025"],
    ] as const) {
      const was = before.find((m) => m.name === from)!;
      const is = after.find((m) => m.name === to);
      assert.ok(is, to);
      assert.equal(is.id, was.id);
      assert.equal(is.uidvalidity, was.uidvalidity);
      assert.equal(is.subscribed, true);
      assert.equal(after.find((m) => m.name === from), undefined, `${from} is gone`);
    }
    assert.ok(after.some((m) => m.name === "projects"), "a name that merely shares a prefix stays");
    const subs = await subscriptions();
    assert.ok(subs.includes("Work/2026/Q1") && !subs.includes("Projects/2026/Q1"));
  });

  it("creates the missing superiors of a rename target", async () => {
    assert.equal((await rename("Work/2025", "Attic/Old/2025")).status, 200);
    const names = (await list()).map((m) => m.name);
    for (const n of ["Attic", "Attic/Old", "Attic/Old/2025"]) assert.ok(names.includes(n), n);
  });

  it("refuses renames onto an existing name (409), from an unknown one (404), and below itself (400 cannot)", async () => {
    assert.equal((await rename("Work", "Sent")).error?.code, "already_exists");
    assert.equal((await rename("Work", "work")).status, 200, "case matters, so this is a new name");
    assert.equal((await rename("work", "Work")).status, 200);
    assert.equal((await rename("Nope", "Elsewhere")).error?.code, "no_such_mailbox");
    const below = await rename("Work", "Work/Sub");
    assert.equal(below.status, 400);
    assert.equal(below.error?.code, "cannot");
    assert.equal((await rename("Work", "a//b")).error?.code, "bad_request");
  });

  it("renames INBOX by moving its messages into a new mailbox; INBOX stays, empty, with tombstones", async () => {
    for (const tag of ["in1", "in2", "in3"]) assert.equal((await deliver(edge, sampleMessage(tag), ["alice@example.org"], `mm-${tag}-0001`)).reply.status, 200);
    const inbox = (await select("INBOX")).body;
    assert.deepEqual(inbox.messages.map((m) => m.uid), [1, 2, 3]);
    const r = await rename("inbox", "Old Mail");
    assert.equal(r.status, 200);
    const moved = (await select("Old Mail")).body;
    assert.deepEqual(moved.messages.map((m) => m.uid), [1, 2, 3]);
    assert.equal(moved.mailbox.role, null);
    assert.equal(moved.mailbox.subscribed, true);
    const after = (await select("INBOX")).body;
    assert.deepEqual(after.messages, []);
    assert.equal(after.mailbox.id, inbox.mailbox.id);
    assert.equal(after.mailbox.uidvalidity, inbox.mailbox.uidvalidity);
    assert.equal(after.mailbox.uidnext, 4, "UIDs are never reused");
    const changes = await edge.relay<ChangesResult>("POST", path(`/mailboxes/${inbox.mailbox.id}/changes`), {
      sinceModseq: inbox.mailbox.highestmodseq,
    });
    assert.deepEqual(changes.body.expunged, [1, 2, 3]);
    // New mail still arrives in INBOX.
    const { reply } = await deliver(edge, sampleMessage("in4"), ["alice@example.org"], "mm-in4-0001");
    assert.equal(reply.body.stored[0]!.mailboxId, inbox.mailbox.id);
    assert.equal(reply.body.stored[0]!.uid, 4);
  });

  it("subscribes names that do not exist, unsubscribes, and reports Mailbox.subscribed from the names", async () => {
    assert.equal((await edge.relay("POST", path("/mailboxes/subscribe"), { name: "Not/There", subscribed: true })).status, 200);
    assert.equal((await edge.relay("POST", path("/mailboxes/subscribe"), { name: "inbox", subscribed: false })).status, 200);
    // Twice is the same as once.
    assert.equal((await edge.relay("POST", path("/mailboxes/subscribe"), { name: "inbox", subscribed: false })).status, 200);
    const subs = await subscriptions();
    assert.ok(subs.includes("Not/There"));
    assert.ok(!subs.includes("INBOX"));
    assert.deepEqual(subs, [...subs].sort(), "sorted by name");
    assert.equal((await byName("INBOX"))!.subscribed, false);
    assert.equal((await select("INBOX")).body.mailbox.subscribed, false);
    assert.equal((await edge.relay("POST", path("/mailboxes/subscribe"), { name: "INBOX", subscribed: true })).status, 200);
    assert.equal((await byName("INBOX"))!.subscribed, true);
    assert.deepEqual(await subscriptions().then((s) => s.filter((n) => n.startsWith("Not"))), ["Not/There"]);
    const none = await edge.relay<SubscriptionList>("GET", "/accounts/999999/subscriptions");
    assert.equal(none.status, 404);
  });

  it("answers STATUS for named mailboxes with counts, and no_such_mailbox for an unknown name", async () => {
    assert.equal((await create("Counted")).status, 200);
    assert.equal((await append("Counted", ["c1"], ["\\Seen"])).status, 200);
    assert.equal((await append("Counted", ["c2", "c3"], ["\\Deleted"])).status, 200);
    const r = await status(["Counted", "inbox", "Sent"]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.mailboxes.map((m) => m.name), ["INBOX", "Sent", "Counted"]);
    const counted = r.body.mailboxes.find((m) => m.name === "Counted")!;
    const sizes = ["c1", "c2", "c3"].map((t) => sampleMessage(t).byteLength);
    assert.deepEqual(
      { messages: counted.messages, unseen: counted.unseen, deleted: counted.deleted, size: counted.size, recent: counted.recent, uidnext: counted.uidnext },
      { messages: 3, unseen: 2, deleted: 2, size: sizes[0]! + sizes[1]! + sizes[2]!, recent: 3, uidnext: 4 },
    );
    const sent = r.body.mailboxes.find((m) => m.name === "Sent")!;
    assert.deepEqual([sent.messages, sent.unseen, sent.deleted, sent.size, sent.recent], [0, 0, 0, 0, 0]);
    const unknown = await status(["Counted", "Nope"]);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error?.code, "no_such_mailbox");
  });

  it("answers STATUS for every mailbox without names", async () => {
    const all = await status();
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.mailboxes.map((m) => m.id), (await list()).map((m) => m.id));
  });

  it("hands \\Recent to the first SELECT that claims it, never to EXAMINE, and only once", async () => {
    assert.equal((await create("Fresh")).status, 200);
    assert.equal((await append("Fresh", ["r1", "r2"])).status, 200);
    const examine = await select("Fresh");
    assert.equal(examine.body.recentFromUid, 1, "EXAMINE sees the recent mark");
    assert.equal((await select("Fresh", false)).body.recentFromUid, 1, "and does not move it");
    const first = await select("Fresh", true);
    assert.equal(first.body.recentFromUid, 1, "the claiming SELECT gets UIDs 1 and 2 as \\Recent");
    const second = await select("Fresh", true);
    assert.equal(second.body.recentFromUid, 3, "the next session gets none");
    assert.equal((await status(["Fresh"])).body.mailboxes[0]!.recent, 0);
    assert.equal((await append("Fresh", ["r3"])).status, 200);
    assert.equal((await status(["Fresh"])).body.mailboxes[0]!.recent, 1);
    const [a, b] = await Promise.all([select("Fresh", true), select("Fresh", true)]);
    assert.deepEqual([a.body.recentFromUid, b.body.recentFromUid].sort(), [3, 4], "concurrent SELECTs never share a \\Recent message");
  });

  it("keeps every account's hierarchy to itself", async () => {
    const names = (await list(bob)).map((m) => m.name);
    assert.deepEqual(names, ["INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive"]);
    const r = await edge.relay("POST", path("/mailboxes/delete", bob), { name: "Work" });
    assert.equal(r.error?.code, "no_such_mailbox");
    assert.ok(await byName("Work"), "alice's Work is untouched");
  });
});
