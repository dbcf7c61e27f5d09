/**
 * Accepted means stored, and every retry is idempotent: an edge that is down or fails
 * halfway makes the sender retry (451) with nothing visible; the retry is stored once; a
 * replayed idempotency key stores nothing new; a failure between the R2 put and the D1
 * batch leaves only a blob recognisable as garbage.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { indexMessage } from "../../common/mime/index.ts";
import { OrphanBlobList } from "../../common/contract.ts";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { connectImap } from "../support/imap-client.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function message(id: string): string {
  return [
    "From: Bob <bob@remote.example>",
    "To: demo@edgemail.test",
    `Subject: durability ${id}`,
    `Message-ID: <${id}@remote.example>`,
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    "",
    `Body of ${id}.`,
    "",
  ].join("\r\n");
}

/** One SMTP transaction over a raw socket; returns the replies to RCPT and DATA (or the end of DATA). */
async function send(stack: Stack, body: string): Promise<{ rcpt: string; data: string | null }> {
  const { client } = await SmtpTranscript.open(stack.relay!.ports.mx!);
  try {
    await client.command("EHLO remote.example");
    assert.match(await client.command("MAIL FROM:<bob@remote.example>"), /^250/);
    const rcpt = await client.command("RCPT TO:<demo@edgemail.test>");
    if (!rcpt.startsWith("250")) return { rcpt, data: null };
    assert.match(await client.command("DATA"), /^354/);
    return { rcpt, data: await client.data(body) };
  } finally {
    client.close();
  }
}

async function subjectsInInbox(stack: Stack): Promise<string[]> {
  const client = await connectImap(stack);
  try {
    const box = await client.mailboxOpen("INBOX");
    if (box.exists === 0) return [];
    const subjects: string[] = [];
    for await (const m of client.fetch("1:*", { envelope: true })) subjects.push(m.envelope?.subject ?? "");
    return subjects;
  } finally {
    await client.logout();
  }
}

describe("durability and idempotency", () => {
  let stack: Stack;

  before(async () => {
    stack = await startTestStack({ allowFaultInjection: true });
  });
  after(async () => {
    await stack.cleanup();
  });

  it("with the edge stopped the sender gets 451 4.3.0; once it is back the retry is stored once", async () => {
    await stack.stopEdge();
    const refused = await send(stack, message("edge-down"));
    assert.match(refused.rcpt, /^451 4\.3\.0 /);
    await stack.startEdge();
    assert.deepEqual(await subjectsInInbox(stack), [], "nothing was stored while the edge was down");

    const retried = await send(stack, message("edge-down"));
    assert.match(retried.data ?? "", /^250 2\.6\.0 /);
    assert.deepEqual(await subjectsInInbox(stack), ["durability edge-down"]);
  });

  it("the same SMTP transaction retried after a 250 it never saw is not stored twice", async () => {
    const first = await send(stack, message("replayed"));
    const second = await send(stack, message("replayed"));
    assert.match(first.data ?? "", /^250 /);
    assert.match(second.data ?? "", /^250 /);
    const subjects = await subjectsInInbox(stack);
    assert.equal(subjects.filter((s) => s === "durability replayed").length, 1);
  });

  it("one delivery posted twice with one idempotency key stores one message", async () => {
    const raw = Buffer.from(message("same-key"));
    const sha = createHash("sha256").update(raw).digest("hex");
    const edge = stack.relay!.edge;
    const blob = await edge.putBlob(sha, raw);
    const request = {
      idempotencyKey: "test:same-key-0001",
      blob,
      envelope: { mailFrom: "bob@remote.example", recipients: ["demo@edgemail.test"] },
      index: indexMessage(raw),
    };
    const first = await edge.deliver(request);
    const second = await edge.deliver(request);
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.deliveryId, first.deliveryId);
    assert.deepEqual(second.stored, first.stored);
    const subjects = await subjectsInInbox(stack);
    assert.equal(subjects.filter((s) => s === "durability same-key").length, 1);
  });

  it("a failure between the R2 put and the D1 batch: 451, nothing visible, the blob is a recognisable orphan", async () => {
    const orphansBefore = OrphanBlobList.parse((await stack.admin("GET", "/blobs/orphans")).json).orphans;
    await stack.admin("POST", "/faults", { point: "deliveries.afterBlobCheck", count: 1 });
    const failed = await send(stack, message("half-stored"));
    assert.match(failed.data ?? "", /^451 4\.3\.0 /);
    assert.ok(!(await subjectsInInbox(stack)).includes("durability half-stored"));

    // Blobs of replayed (duplicate) deliveries are garbage too; the failed one must be new among them.
    const { orphans } = OrphanBlobList.parse((await stack.admin("GET", "/blobs/orphans")).json);
    const fresh = orphans.filter((o) => !orphansBefore.some((b) => b.key === o.key));
    assert.equal(fresh.length, 1, "exactly the blob of the failed delivery became unreferenced");

    const retried = await send(stack, message("half-stored"));
    assert.match(retried.data ?? "", /^250 /);
    const subjects = await subjectsInInbox(stack);
    assert.equal(subjects.filter((s) => s === "durability half-stored").length, 1);
  });
});
