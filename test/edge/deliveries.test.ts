/**
 * Blob upload and delivery: accepted means stored, idempotent replays, and what a failure between
 * the upload and the D1 batch leaves behind (an orphan blob, never a message row), against a real edge.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import type { Account, BlobStored, DeliveryResult, MailboxSnapshot, OrphanBlobList } from "../../common/contract.ts";
import { deliver, minimalIndex, RELAY_KEY, sampleMessage, sha256Hex, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("blobs and deliveries", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  const inbox = async (account: Account) =>
    (await edge.relay<MailboxSnapshot>("POST", `/accounts/${account.id}/mailboxes/select`, { name: "INBOX" })).body;

  before(async () => {
    edge = await startTestEdge({ allowFaultInjection: true });
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 201);
    alice = (await edge.admin<Account>("POST", "/accounts", { address: "alice@example.org", password: "correct horse" })).body;
    bob = (await edge.admin<Account>("POST", "/accounts", { address: "bob@example.org", password: "battery staple" })).body;
  });
  after(async () => {
    await edge?.stop();
  });

  it("stores a blob under its SHA-256, idempotently", async () => {
    const raw = sampleMessage("blob");
    const sha = sha256Hex(raw);
    for (let i = 0; i < 2; i++) {
      const res = await edge.relayRaw("PUT", `/blobs/${sha}`, { body: raw });
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()) as BlobStored, { key: sha, size: raw.byteLength });
    }
  });

  it("refuses a blob whose bytes do not match its digest with 400 and stores nothing", async () => {
    const sha = sha256Hex("something else");
    const res = await edge.relayRaw("PUT", `/blobs/${sha}`, { body: sampleMessage("mismatch") });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "bad_request");
    const orphans = await edge.admin<OrphanBlobList>("GET", "/blobs/orphans");
    assert.ok(!orphans.body.orphans.some((o) => o.key === `blobs/${sha}`));
  });

  it("refuses a blob key that is not a digest with 400", async () => {
    const res = await edge.relayRaw("PUT", "/blobs/not-a-digest", { body: sampleMessage("x") });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });

  it("refuses a blob above 64 MiB by its Content-Length with 413 too_large, before reading it", async () => {
    // Only the header is sent: the edge must answer without waiting for 64 MiB of body.
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${edge.url}/relay/v1/blobs/${sha256Hex("big")}`);
      const req = httpRequest(
        {
          method: "PUT",
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { authorization: `Bearer ${RELAY_KEY}`, "content-length": String(64 * 1024 * 1024 + 1) },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on("error", reject);
      req.flushHeaders();
    });
    assert.equal(reply.status, 413);
    const body = JSON.parse(reply.body) as { error: { code: string; smtp: { code: number; enhanced: string } } };
    assert.equal(body.error.code, "too_large");
    assert.deepEqual(body.error.smtp, { code: 552, enhanced: "5.3.4" });
  });

  it("delivers an uploaded message to the recipient's INBOX with UID 1", async () => {
    const { reply } = await deliver(edge, sampleMessage("first"), ["alice@example.org"], "delivery-first-0001");
    assert.equal(reply.status, 200);
    assert.equal(reply.body.duplicate, false);
    assert.equal(reply.body.stored.length, 1);
    assert.deepEqual({ ...reply.body.stored[0], mailboxId: 0 }, { recipient: "alice@example.org", accountId: alice.id, mailboxId: 0, uid: 1 });
    const snap = await inbox(alice);
    assert.equal(snap.mailbox.uidnext, 2);
    assert.equal(snap.mailbox.id, reply.body.stored[0]!.mailboxId);
    assert.equal(snap.messages.length, 1);
    assert.equal(snap.messages[0]!.uid, 1);
    assert.equal(snap.messages[0]!.modseq, snap.mailbox.highestmodseq);
  });

  it("stores a replayed delivery once and returns the first result with duplicate: true", async () => {
    const raw = sampleMessage("replayed");
    const first = await deliver(edge, raw, ["alice@example.org"], "delivery-replay-0001");
    const second = await deliver(edge, raw, ["alice@example.org"], "delivery-replay-0001");
    assert.equal(first.reply.status, 200);
    assert.equal(second.reply.status, 200);
    assert.equal(second.reply.body.duplicate, true);
    assert.deepEqual({ ...second.reply.body, duplicate: false }, first.reply.body);
    const snap = await inbox(alice);
    assert.equal(snap.messages.filter((m) => m.uid === first.reply.body.stored[0]!.uid).length, 1);
    assert.equal(snap.mailbox.uidnext, first.reply.body.stored[0]!.uid + 1);
  });

  it("stores concurrent replays of one key once", async () => {
    const raw = sampleMessage("concurrent");
    const before = (await inbox(alice)).messages.length;
    const replies = await Promise.all([1, 2, 3].map(() => deliver(edge, raw, ["alice@example.org"], "delivery-concurrent-0001")));
    for (const r of replies) assert.equal(r.reply.status, 200);
    assert.equal(new Set(replies.map((r) => r.reply.body.deliveryId)).size, 1);
    assert.equal(replies.filter((r) => !r.reply.body.duplicate).length, 1);
    assert.equal((await inbox(alice)).messages.length, before + 1);
  });

  it("stores one copy per account, and one in each recipient account", async () => {
    const { reply } = await deliver(
      edge,
      sampleMessage("multi"),
      ["alice@example.org", "Alice+tag@example.org", "bob@example.org"],
      "delivery-multi-0001",
    );
    assert.equal(reply.status, 200);
    assert.deepEqual(
      reply.body.stored.map((s) => [s.recipient, s.accountId, s.uid]),
      [
        ["alice@example.org", alice.id, reply.body.stored[0]!.uid],
        ["bob@example.org", bob.id, 1],
      ],
    );
  });

  it("rejects the whole delivery with 422 unknown_recipient (550 5.1.1) if one recipient is unknown", async () => {
    const before = (await inbox(alice)).mailbox.uidnext;
    const { reply } = await deliver(edge, sampleMessage("unknown"), ["alice@example.org", "nobody@example.org"], "delivery-unknown-0001");
    assert.equal(reply.status, 422);
    assert.equal(reply.error?.code, "unknown_recipient");
    assert.equal(reply.error?.temporary, false);
    assert.deepEqual(reply.error?.smtp, { code: 550, enhanced: "5.1.1" });
    assert.equal((await inbox(alice)).mailbox.uidnext, before);
  });

  it("answers 409 blob_missing (temporary) when the blob was never uploaded, or its size differs", async () => {
    const raw = sampleMessage("never-uploaded");
    const request = {
      idempotencyKey: "delivery-noblob-0001",
      blob: { key: sha256Hex(raw), size: raw.byteLength },
      envelope: { mailFrom: "", recipients: ["alice@example.org"] },
      index: minimalIndex(raw),
    };
    const missing = await edge.relay<DeliveryResult>("POST", "/deliveries", request);
    assert.equal(missing.status, 409);
    assert.equal(missing.error?.code, "blob_missing");
    assert.equal(missing.error?.temporary, true);
    assert.deepEqual(missing.error?.smtp, { code: 451, enhanced: "4.3.0" });

    const uploaded = sampleMessage("size-lie");
    await (await edge.relayRaw("PUT", `/blobs/${sha256Hex(uploaded)}`, { body: uploaded })).body?.cancel();
    const lie = await edge.relay("POST", "/deliveries", {
      ...request,
      idempotencyKey: "delivery-sizelie-0001",
      blob: { key: sha256Hex(uploaded), size: uploaded.byteLength + 1 },
      index: { ...minimalIndex(uploaded), size: uploaded.byteLength + 1 },
    });
    assert.equal(lie.status, 409);
    assert.equal(lie.error?.code, "blob_missing");
  });

  it("refuses an index whose size is not the blob's with 400", async () => {
    const raw = sampleMessage("index-size");
    const { request } = await deliver(edge, raw, ["alice@example.org"], "delivery-indexsize-0001");
    const r = await edge.relay("POST", "/deliveries", { ...request, idempotencyKey: "delivery-indexsize-0002", index: { ...request.index, size: 1 } });
    assert.equal(r.status, 400);
  });

  it("refuses a malformed delivery with 400 bad_request", async () => {
    const r = await edge.relay("POST", "/deliveries", { idempotencyKey: "short" });
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
  });

  it("on a failure after the upload answers 503 (temporary), stores no row, and leaves the blob as an orphan", async () => {
    const armed = await edge.admin("POST", "/faults", { point: "deliveries.afterBlobCheck", count: 1 });
    assert.equal(armed.status, 204);
    const before = await inbox(alice);
    const raw = sampleMessage("fault");
    const { sha, request, reply } = await deliver(edge, raw, ["alice@example.org"], "delivery-fault-0001");
    assert.equal(reply.status, 503);
    assert.equal(reply.error?.code, "unavailable");
    assert.equal(reply.error?.temporary, true);
    assert.deepEqual(reply.error?.smtp, { code: 451, enhanced: "4.3.0" });

    const afterFault = await inbox(alice);
    assert.deepEqual(afterFault.messages, before.messages);
    assert.equal(afterFault.mailbox.uidnext, before.mailbox.uidnext);
    const orphans = await edge.admin<OrphanBlobList>("GET", "/blobs/orphans");
    const orphan = orphans.body.orphans.find((o) => o.key === `blobs/${sha}`);
    assert.ok(orphan, "the uploaded blob is reported as an orphan");
    assert.equal(orphan.size, raw.byteLength);
    assert.ok(!Number.isNaN(Date.parse(orphan.uploaded)));

    // The relay retries (same key): now it is stored, and the blob is no longer an orphan.
    const retry = await edge.relay<DeliveryResult>("POST", "/deliveries", request);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.duplicate, false);
    const later = await edge.admin<OrphanBlobList>("GET", "/blobs/orphans");
    assert.ok(!later.body.orphans.some((o) => o.key === `blobs/${sha}`));
  });

  it("reports no delivered blob as an orphan", async () => {
    const orphans = await edge.admin<OrphanBlobList>("GET", "/blobs/orphans");
    const delivered = sha256Hex(sampleMessage("first"));
    assert.ok(!orphans.body.orphans.some((o) => o.key === `blobs/${delivered}`));
    // The blob uploaded in the first test was never delivered.
    assert.ok(orphans.body.orphans.some((o) => o.key === `blobs/${sha256Hex(sampleMessage("blob"))}`));
  });
});
