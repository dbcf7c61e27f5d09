/**
 * APPEND and MULTIAPPEND through the one ingest path, and the storage quota that deliveries,
 * appends and copies respect (moves and expunges never need it), against a real edge.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Account,
  AppendRequest,
  AppendResult,
  CopyResult,
  ExpungeResult,
  FetchResult,
  MailboxSnapshot,
  QuotaResult,
  SearchResult,
} from "../../common/contract.ts";
import {
  appendMessage,
  createAccounts,
  deliver,
  minimalIndex,
  sampleMessage,
  searchFields,
  sha256Hex,
  startTestEdge,
  type TestEdge,
} from "../support/edge-api.ts";

describe("append and quota", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  const base = (account = alice) => `/accounts/${account.id}`;
  const append = (name: string, messages: AppendRequest["messages"], account = alice) =>
    edge.relay<AppendResult>("POST", `${base(account)}/mailboxes/append`, { name, messages });
  const select = (name: string, account = alice) => edge.relay<MailboxSnapshot>("POST", `${base(account)}/mailboxes/select`, { name });
  const quota = (account = alice) => edge.relay<QuotaResult>("GET", `${base(account)}/quota`);
  const setQuota = (storageBytes: number | null, account = alice) => edge.admin("PUT", `/accounts/${account.id}/quota`, { storageBytes });

  before(async () => {
    edge = await startTestEdge();
    const accounts = await createAccounts(edge, ["alice@example.org", "bob@example.org"]);
    alice = accounts[0]!;
    bob = accounts[1]!;
  });
  after(async () => {
    await edge?.stop();
  });

  it("appends one message with its flags and internal date", async () => {
    const raw = sampleMessage("draft-1");
    const internalDate = Date.UTC(2024, 4, 17, 9, 30);
    const r = await append("Drafts", [await appendMessage(edge, raw, { flags: ["\\draft", "\\Seen", "$Todo"], internalDate })]);
    assert.equal(r.status, 200);
    const drafts = (await select("Drafts")).body;
    assert.deepEqual(r.body, { mailboxId: drafts.mailbox.id, uidvalidity: drafts.mailbox.uidvalidity, uids: [1] });
    const fetched = await edge.relay<FetchResult>("POST", `${base()}/mailboxes/${drafts.mailbox.id}/messages/fetch`, { uids: [1] });
    const m = fetched.body.messages[0]!;
    assert.deepEqual([m.flags, m.internalDate, m.size], [["\\Seen", "\\Draft", "$Todo"], internalDate, raw.byteLength]);
    const bytes = await edge.relayRaw("GET", `${base()}/mailboxes/${drafts.mailbox.id}/messages/1/raw`);
    assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), raw);
  });

  it("appends several messages in one transaction with consecutive UIDs and one MODSEQ", async () => {
    const before = (await select("INBOX")).body.mailbox;
    const messages = await Promise.all(["multi-1", "multi-2", "multi-3"].map((t) => appendMessage(edge, sampleMessage(t))));
    const r = await append("inbox", messages);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.uids, [1, 2, 3]);
    const after = (await select("INBOX")).body;
    assert.equal(after.mailbox.highestmodseq, before.highestmodseq + 1);
    assert.deepEqual(after.messages.map((m) => [m.uid, m.modseq]), [1, 2, 3].map((uid) => [uid, after.mailbox.highestmodseq]));
    // Internal date defaults to now.
    const fetched = await edge.relay<FetchResult>("POST", `${base()}/mailboxes/${after.mailbox.id}/messages/fetch`, { uids: [1] });
    assert.ok(Math.abs(fetched.body.messages[0]!.internalDate - Date.now()) < 60_000);
  });

  it("appends the same bytes twice as two messages (APPEND has no idempotency key)", async () => {
    const m = await appendMessage(edge, sampleMessage("twice"));
    const first = await append("Sent", [m]);
    const second = await append("Sent", [m]);
    assert.deepEqual([first.body.uids, second.body.uids], [[1], [2]]);
  });

  it("stores search fields given with an APPEND", async () => {
    const search = searchFields({ headers: { subject: ["appended and searchable"] }, body: "a body only append knows" });
    const r = await append("Sent", [await appendMessage(edge, sampleMessage("searchable"), { search })]);
    const sent = (await select("Sent")).body.mailbox.id;
    const found = await edge.relay<SearchResult>("POST", `${base()}/mailboxes/${sent}/messages/search`, {
      criteria: { op: "and", keys: [{ op: "body", value: "only append" }, { op: "header", field: "subject", value: "searchable" }] },
    });
    assert.deepEqual(found.body.uids, r.body.uids);
  });

  it("answers 404 try_create (TRYCREATE) for a mailbox that does not exist, storing nothing", async () => {
    const r = await append("Nowhere", [await appendMessage(edge, sampleMessage("lost"))]);
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "try_create");
    assert.equal(r.error?.imap, "TRYCREATE");
    const wrongCase = await append("drafts", [await appendMessage(edge, sampleMessage("lost"))]);
    assert.equal(wrongCase.error?.code, "try_create", "only INBOX is case-insensitive");
  });

  it("stores none of a MULTIAPPEND when one blob is missing (409 blob_missing, temporary)", async () => {
    const before = (await select("INBOX")).body;
    const never = sampleMessage("never-uploaded");
    const r = await append("INBOX", [
      await appendMessage(edge, sampleMessage("ok-1")),
      { blob: { key: sha256Hex(never), size: never.byteLength }, index: minimalIndex(never) },
    ]);
    assert.equal(r.status, 409);
    assert.equal(r.error?.code, "blob_missing");
    assert.equal(r.error?.temporary, true);
    assert.deepEqual((await select("INBOX")).body, before);
  });

  it("refuses unknown system flags and malformed requests with 400", async () => {
    const r = await append("INBOX", [await appendMessage(edge, sampleMessage("flagged"), { flags: ["\\Important"] })]);
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
    assert.equal((await append("INBOX", [])).status, 400);
  });

  it("reports usage as the sum of message sizes and no limit by default", async () => {
    const r = await quota();
    assert.equal(r.status, 200);
    const sizes = await Promise.all(
      ["INBOX", "Drafts", "Sent"].map(async (name) => {
        const snap = (await select(name)).body;
        const meta = await edge.relay<FetchResult>("POST", `${base()}/mailboxes/${snap.mailbox.id}/messages/fetch`, {
          uids: snap.messages.map((m) => m.uid),
        });
        return meta.body.messages.reduce((s, m) => s + m.size, 0);
      }),
    );
    assert.deepEqual(r.body, { usage: sizes.reduce((a, b) => a + b, 0), limit: null });
    assert.deepEqual((await quota(bob)).body, { usage: 0, limit: null });
    assert.equal((await edge.relay("GET", "/accounts/999999/quota")).status, 404);
  });

  it("sets a limit through the admin API (204), 404 for an unknown account, 400 for a bad one", async () => {
    assert.equal((await setQuota(1_000_000)).status, 204);
    assert.equal((await quota()).body.limit, 1_000_000);
    assert.equal((await edge.admin("PUT", "/accounts/999999/quota", { storageBytes: 5 })).status, 404);
    assert.equal((await setQuota(-1)).status, 400);
    assert.equal((await edge.admin("PUT", `/accounts/${alice.id}/quota`, { storageBytes: 5 }, null)).status, 401);
  });

  it("lets an APPEND fill the quota exactly, then refuses the next with 422 over_quota (OVERQUOTA)", async () => {
    const raw = sampleMessage("fits");
    const { usage } = (await quota()).body;
    assert.equal((await setQuota(usage + raw.byteLength)).status, 204);
    const fits = await append("INBOX", [await appendMessage(edge, raw)]);
    assert.equal(fits.status, 200);
    const over = await append("INBOX", [await appendMessage(edge, sampleMessage("over"))]);
    assert.equal(over.status, 422);
    assert.equal(over.error?.code, "over_quota");
    assert.equal(over.error?.imap, "OVERQUOTA");
    assert.equal((await quota()).body.usage, usage + raw.byteLength);
  });

  it("refuses a delivery into a full account with 452 4.2.2 (temporary), storing it for nobody", async () => {
    const before = (await select("INBOX", bob)).body.messages.length;
    const { reply } = await deliver(edge, sampleMessage("to-both"), ["bob@example.org", "alice@example.org"], "aq-delivery-full");
    assert.equal(reply.status, 422);
    assert.equal(reply.error?.code, "over_quota");
    assert.equal(reply.error?.temporary, true);
    assert.deepEqual(reply.error?.smtp, { code: 452, enhanced: "4.2.2" });
    assert.equal((await select("INBOX", bob)).body.messages.length, before);
  });

  it("counts copies against the quota, but not moves", async () => {
    const inbox = (await select("INBOX")).body.mailbox.id;
    const copy = await edge.relay<CopyResult>("POST", `${base()}/mailboxes/${inbox}/messages/copy`, { uids: [1], target: "Trash" });
    assert.equal(copy.status, 422);
    assert.equal(copy.error?.code, "over_quota");
    const move = await edge.relay<CopyResult>("POST", `${base()}/mailboxes/${inbox}/messages/copy`, { uids: [1], target: "Trash", move: true });
    assert.equal(move.status, 200);
    assert.deepEqual(move.body.mapping, [[1, 1]]);
  });

  it("frees space on EXPUNGE, and a null limit means unlimited again", async () => {
    const trash = (await select("Trash")).body.mailbox.id;
    const { usage } = (await quota()).body;
    await edge.relay("POST", `${base()}/mailboxes/${trash}/messages/flags`, { uids: [1], mode: "add", flags: ["\\Deleted"] });
    const gone = await edge.relay<ExpungeResult>("POST", `${base()}/mailboxes/${trash}/messages/expunge`, {});
    assert.deepEqual(gone.body.expunged, [1]);
    assert.equal((await quota()).body.usage, usage - sampleMessage("multi-1").byteLength);
    assert.equal((await append("INBOX", [await appendMessage(edge, sampleMessage("multi-9"))])).status, 200);
    assert.equal((await setQuota(null)).status, 204);
    assert.equal((await quota()).body.limit, null);
    const big = await Promise.all(["u1", "u2", "u3"].map((t) => appendMessage(edge, sampleMessage(t))));
    assert.equal((await append("INBOX", big)).status, 200);
  });
});
