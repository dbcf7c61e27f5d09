/**
 * Submission and the outbound queue against a real edge: sender checks, the local/remote split,
 * idempotent replays, leases (exclusive, expiring, token-checked), the retry schedule under a
 * moved clock, and bounces (DSN in the sender's INBOX, none for the null sender).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Account, MailboxSnapshot, OutboundJob } from "../../common/contract.ts";
import {
  createAccounts,
  leaseOutbound,
  reportOutbound,
  sampleMessage,
  setEdgeClock,
  startTestEdge,
  submitMessage,
  type TestEdge,
} from "../support/edge-api.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe("submission and the outbound queue", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  /** The edge clock only moves forward here, so earlier leases never come back to life by surprise. */
  let clock = 0;
  const advance = async (ms: number) => {
    clock += ms;
    await setEdgeClock(edge, clock);
  };
  const inbox = async (account: Account) =>
    (await edge.relay<MailboxSnapshot>("POST", `/accounts/${account.id}/mailboxes/select`, { name: "INBOX" })).body;
  const rawOf = async (account: Account, mailboxId: number, uid: number) => {
    const res = await edge.relayRaw("GET", `/accounts/${account.id}/mailboxes/${mailboxId}/messages/${uid}/raw`);
    assert.equal(res.status, 200);
    return res.text();
  };
  /** Every lease handed out in this file, so `drain` can settle jobs a test left leased. */
  const held: OutboundJob[] = [];
  const lease = async (relayId: string, options: { max?: number; leaseSeconds?: number } = {}) => {
    const jobs = await leaseOutbound(edge, relayId, options);
    held.push(...jobs);
    return jobs;
  };
  /** Reports every job still held (and everything due) delivered, so each test starts with an empty queue. */
  const drain = async () => {
    for (const j of held.splice(0)) {
      const r = await reportOutbound(edge, j.id, { leaseToken: j.leaseToken, results: j.recipients.map((recipient) => ({ recipient, outcome: "delivered" })) });
      assert.ok(r.status === 200 || r.status === 409, `drain: ${r.status}`);
    }
    for (;;) {
      const jobs = await leaseOutbound(edge, "drain", { max: 100, leaseSeconds: 3600 });
      if (jobs.length === 0) return;
      for (const j of jobs) {
        const r = await reportOutbound(edge, j.id, { leaseToken: j.leaseToken, results: j.recipients.map((recipient) => ({ recipient, outcome: "delivered" })) });
        assert.equal(r.status, 200);
      }
    }
  };
  /** Submits one remote message from alice and leases its (only) job. */
  const submitAndLease = async (tag: string, to: string, mailFrom = "alice@example.org", leaseSeconds = 300) => {
    const s = await submitMessage(edge, alice.id, sampleMessage(tag), [to], `key-${tag}-000`, mailFrom);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const jobs = await lease("relay-a", { leaseSeconds });
    assert.equal(jobs.length, 1);
    return jobs[0]!;
  };

  before(async () => {
    edge = await startTestEdge({ allowFaultInjection: true });
    const created = await createAccounts(edge, ["alice@example.org", "bob@example.org"]);
    alice = created[0]!;
    bob = created[1]!;
  });
  after(async () => {
    await edge?.stop();
  });
  beforeEach(drain);

  it("allows the account's own address, its plus-addresses and the null sender, nothing else", async () => {
    const check = async (address: string, account = alice) =>
      (await edge.relay<{ allowed: boolean }>("POST", `/accounts/${account.id}/senders/check`, { address })).body.allowed;
    assert.equal(await check("alice@example.org"), true);
    assert.equal(await check("Alice@Example.ORG"), true);
    assert.equal(await check("alice+lists@example.org"), true);
    assert.equal(await check(""), true);
    assert.equal(await check("bob@example.org"), false);
    assert.equal(await check("alice@elsewhere.test"), false);
    assert.equal(await check("not an address"), false);
    assert.equal(await check("bob+x@example.org", bob), true);
  });

  it("allows an alias to the accounts it names directly, not to others", async () => {
    const check = async (address: string, account = alice) =>
      (await edge.relay<{ allowed: boolean }>("POST", `/accounts/${account.id}/senders/check`, { address })).body.allowed;
    assert.equal(await check("team@example.org"), false);
    const created = await edge.admin("POST", "/aliases", { address: "team@example.org", targets: ["alice@example.org", "x@remote.test"] });
    assert.equal(created.status, 201);
    assert.equal(await check("team@example.org"), true);
    assert.equal(await check("team+news@example.org"), true);
    assert.equal(await check("team@example.org", bob), false);
  });

  it("stores local copies at once and queues one job per remote domain", async () => {
    const raw = sampleMessage("split");
    const s = await submitMessage(
      edge,
      alice.id,
      raw,
      ["bob+tag@example.org", "x@remote.test", "Y@remote.test", "z@other.test"],
      "key-split-0001",
      "alice@example.org",
    );
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal(s.body.duplicate, false);
    assert.deepEqual(s.body.local.map((c) => [c.recipient, c.accountId]), [["bob+tag@example.org", bob.id]]);
    assert.deepEqual(s.body.queued, ["x@remote.test", "y@remote.test", "z@other.test"]);
    assert.ok((await inbox(bob)).messages.some((m) => m.uid === s.body.local[0]!.uid));

    const jobs = await lease("relay-a");
    const byDomain = new Map(jobs.map((j) => [j.domain, j]));
    assert.deepEqual([...byDomain.keys()].sort(), ["other.test", "remote.test"]);
    const remote = byDomain.get("remote.test")!;
    assert.deepEqual(remote.recipients, ["x@remote.test", "y@remote.test"]);
    assert.equal(remote.mailFrom, "alice@example.org");
    assert.equal(remote.size, raw.byteLength);
    assert.equal(remote.attempt, 1);

    const body = await edge.relayRaw("GET", `/outbound/${remote.id}/raw?lease=${remote.leaseToken}`);
    assert.equal(body.status, 200);
    assert.deepEqual(new Uint8Array(await body.arrayBuffer()), raw);
  });

  it("rejects a submission naming an unknown user of our domains, storing nothing", async () => {
    const before = (await inbox(bob)).messages.length;
    const s = await submitMessage(edge, alice.id, sampleMessage("unknown"), ["bob@example.org", "nobody@example.org", "x@remote.test"], "key-unknown-01");
    assert.equal(s.status, 422);
    assert.equal(s.error?.code, "unknown_recipient");
    assert.deepEqual(s.error?.smtp, { code: 550, enhanced: "5.1.1" });
    assert.equal((await inbox(bob)).messages.length, before);
    assert.deepEqual(await lease("relay-a"), []);
  });

  it("refuses a submission whose blob was never uploaded with blob_missing", async () => {
    const raw = sampleMessage("never-uploaded");
    const r = await edge.relay("POST", `/accounts/${alice.id}/submissions`, {
      idempotencyKey: "key-missing-01",
      blob: { key: "0".repeat(64), size: raw.byteLength },
      envelope: { mailFrom: "alice@example.org", recipients: ["x@remote.test"] },
      index: { size: raw.byteLength, headerSize: 10, envelope: {}, body: {} },
    });
    assert.equal(r.status, 409);
    assert.equal(r.error?.code, "blob_missing");
    assert.deepEqual(await lease("relay-a"), []);
  });

  it("replays an idempotency key: the first result, duplicate: true, nothing new stored or queued", async () => {
    const raw = sampleMessage("replay");
    const recipients = ["bob@example.org", "r@replay.test"];
    const first = await submitMessage(edge, alice.id, raw, recipients, "key-replay-0001", "alice@example.org");
    assert.equal(first.status, 200);
    const count = (await inbox(bob)).messages.length;
    const again = await Promise.all([1, 2].map(() => submitMessage(edge, alice.id, raw, recipients, "key-replay-0001", "alice@example.org")));
    for (const r of again) {
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { ...first.body, duplicate: true });
    }
    assert.equal((await inbox(bob)).messages.length, count);
    assert.equal((await lease("relay-a")).length, 1);
    // Another account's identical key is its own submission.
    const bobs = await submitMessage(edge, bob.id, raw, ["r@replay.test"], "key-replay-0001", "bob@example.org");
    assert.equal(bobs.body.duplicate, false);
    assert.notEqual(bobs.body.submissionId, first.body.submissionId);
  });

  it("never hands the same job to two relays leasing at once", async () => {
    const domains = ["a", "b", "c", "d", "e", "f", "g"].map((d) => `u@${d}.concurrent.test`);
    assert.equal((await submitMessage(edge, alice.id, sampleMessage("concurrent"), domains, "key-concurrent-1")).status, 200);
    const [one, two] = await Promise.all([lease("relay-a", { max: 5 }), lease("relay-b", { max: 5 })]);
    const ids = [...one!, ...two!].map((j) => j.id);
    assert.equal(ids.length, 7);
    assert.equal(new Set(ids).size, 7);
    assert.deepEqual(await lease("relay-c"), []);
  });

  it("offers a job again once its lease expired, and refuses the old token then", async () => {
    const job = await submitAndLease("expiry", "e@lease.test", "alice@example.org", 30);
    assert.deepEqual(await lease("relay-b"), []);
    await advance(31_000);
    const [again] = await lease("relay-b");
    assert.equal(again?.id, job.id);
    assert.notEqual(again!.leaseToken, job.leaseToken);
    assert.equal(again!.attempt, 2);

    const stale = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "e@lease.test", outcome: "delivered" }] });
    assert.equal(stale.status, 409);
    assert.equal(stale.error?.code, "conflict");
    const staleRaw = await edge.relayRaw("GET", `/outbound/${job.id}/raw?lease=${job.leaseToken}`);
    assert.equal(staleRaw.status, 409);
    await staleRaw.body?.cancel();
    const foreign = await reportOutbound(edge, job.id, { leaseToken: "forged", results: [{ recipient: "e@lease.test", outcome: "delivered" }] });
    assert.equal(foreign.status, 409);

    const ok = await reportOutbound(edge, job.id, { leaseToken: again!.leaseToken, results: [{ recipient: "e@lease.test", outcome: "delivered" }] });
    assert.deepEqual(ok.body, { nextAttemptAt: null, bounced: [] });
    // A report is accepted once: the token is released with it.
    const twice = await reportOutbound(edge, job.id, { leaseToken: again!.leaseToken, results: [{ recipient: "e@lease.test", outcome: "delivered" }] });
    assert.equal(twice.status, 409);
    assert.deepEqual(await lease("relay-b"), []);
  });

  it("retries a deferred recipient after 5 minutes, then 10, with the attempt counted", async () => {
    const job = await submitAndLease("deferred", "d@slow.test");
    const deferred = { recipient: "d@slow.test", outcome: "deferred" as const, smtp: { code: 451, enhanced: "4.7.1", message: "greylisted" }, mx: "mx.slow.test" };
    const r1 = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [deferred] });
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.body.bounced, []);
    const wait1 = r1.body.nextAttemptAt! - (Date.now() + clock);
    assert.ok(wait1 > 4.9 * MINUTE && wait1 <= 5 * MINUTE, `first retry in ${wait1} ms`);

    await advance(4 * MINUTE);
    assert.deepEqual(await lease("relay-a"), []);
    await advance(1 * MINUTE + 1000);
    const [second] = await lease("relay-a");
    assert.equal(second?.id, job.id);
    assert.equal(second!.attempt, 2);
    assert.deepEqual(second!.recipients, ["d@slow.test"]);

    const r2 = await reportOutbound(edge, job.id, { leaseToken: second!.leaseToken, results: [deferred] });
    const wait2 = r2.body.nextAttemptAt! - (Date.now() + clock);
    assert.ok(wait2 > 9.9 * MINUTE && wait2 <= 10 * MINUTE, `second retry in ${wait2} ms`);
    await advance(10 * MINUTE + 1000);
    const [third] = await lease("relay-a");
    assert.equal(third?.attempt, 3);
  });

  it("bounces a failed recipient with one DSN in the sender's INBOX, the others untouched", async () => {
    const s = await submitMessage(edge, alice.id, sampleMessage("bounce"), ["gone@fail.test", "ok@fail.test", "later@fail.test"], "key-bounce-0001", "alice+news@example.org");
    assert.equal(s.status, 200);
    const [job] = await lease("relay-a");
    const before = await inbox(alice);
    const r = await reportOutbound(edge, job!.id, {
      leaseToken: job!.leaseToken,
      results: [
        { recipient: "gone@fail.test", outcome: "failed", smtp: { code: 550, enhanced: "5.1.1", message: "No such user\r\nX-Injected: yes" }, mx: "mx1.fail.test" },
        { recipient: "ok@fail.test", outcome: "delivered", smtp: { code: 250, enhanced: "2.0.0", message: "ok" }, mx: "mx1.fail.test" },
        { recipient: "later@fail.test", outcome: "deferred", smtp: { code: 452, enhanced: "4.2.2", message: "mailbox full" } },
      ],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.bounced, ["gone@fail.test"]);
    assert.ok(r.body.nextAttemptAt !== null);

    const afterBox = await inbox(alice);
    assert.equal(afterBox.messages.length, before.messages.length + 1);
    const dsn = await rawOf(alice, afterBox.mailbox.id, afterBox.messages.at(-1)!.uid);
    assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status;/m);
    assert.match(dsn, /^To: <alice\+news@example\.org>$/m);
    assert.match(dsn, /^Auto-Submitted: auto-replied$/m);
    assert.match(dsn, /^Content-Type: message\/delivery-status$/m);
    assert.match(dsn, /^Final-Recipient: rfc822; gone@fail\.test$/m);
    assert.match(dsn, /^Action: failed$/m);
    assert.match(dsn, /^Status: 5\.1\.1$/m);
    assert.match(dsn, /^Remote-MTA: dns; mx1\.fail\.test$/m);
    assert.match(dsn, /^Diagnostic-Code: smtp; 550 5\.1\.1 No such user X-Injected: yes$/m);
    assert.doesNotMatch(dsn, /^X-Injected/m);
    assert.doesNotMatch(dsn, /Final-Recipient: rfc822; (ok|later)@fail\.test/);
    assert.match(dsn, /^Content-Type: text\/rfc822-headers$/m);
    assert.match(dsn, /^Subject: test bounce$/m);
    assert.match(dsn, /^Message-ID: <bounce@remote\.test>$/m);

    // Only the deferred one is offered again.
    await advance(5 * MINUTE + 1000);
    const [retry] = await lease("relay-a");
    assert.deepEqual(retry?.recipients, ["later@fail.test"]);
  });

  it("gives up 5 days after submission and bounces with 4.4.7", async () => {
    const job = await submitAndLease("expire", "late@never.test");
    const deferred = { recipient: "late@never.test", outcome: "deferred" as const, detail: "no MX reachable" };
    assert.equal((await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [deferred] })).status, 200);
    const before = await inbox(alice);
    await advance(5 * DAY);
    const [last] = await lease("relay-a");
    assert.equal(last?.id, job.id);
    const r = await reportOutbound(edge, job.id, { leaseToken: last!.leaseToken, results: [deferred] });
    assert.deepEqual(r.body, { nextAttemptAt: null, bounced: ["late@never.test"] });
    const afterBox = await inbox(alice);
    assert.equal(afterBox.messages.length, before.messages.length + 1);
    const dsn = await rawOf(alice, afterBox.mailbox.id, afterBox.messages.at(-1)!.uid);
    assert.match(dsn, /^Final-Recipient: rfc822; late@never\.test$/m);
    assert.match(dsn, /^Status: 4\.4\.7$/m);
    assert.match(dsn, /^Diagnostic-Code: X-edgemail; no MX reachable$/m);
    assert.deepEqual(await lease("relay-a"), []);
  });

  it("never bounces a bounce: no DSN for the null reverse-path", async () => {
    const job: OutboundJob = await submitAndLease("nullsender", "x@fail.test", "");
    assert.equal(job.mailFrom, "");
    const before = await inbox(alice);
    const r = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "x@fail.test", outcome: "failed", smtp: { code: 550, enhanced: "5.1.1", message: "unknown" } }],
    });
    assert.deepEqual(r.body, { nextAttemptAt: null, bounced: ["x@fail.test"] });
    assert.equal((await inbox(alice)).messages.length, before.messages.length);
  });

  it("refuses a report naming a recipient that is not in the job", async () => {
    const job = await submitAndLease("stranger", "s@one.test");
    const r = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "other@two.test", outcome: "delivered" }] });
    assert.equal(r.status, 400);
    const unknown = await reportOutbound(edge, "00000000-0000-0000-0000-000000000000", { leaseToken: "x", results: [{ recipient: "a@b.test", outcome: "delivered" }] });
    assert.equal(unknown.status, 404);
  });
});

describe("the test clock outside tests", () => {
  it("is 404 unless the worker allows fault injection", async () => {
    const edge = await startTestEdge();
    try {
      const r = await edge.admin("POST", "/clock", { offsetMs: 1000 });
      assert.equal(r.status, 404);
    } finally {
      await edge.stop();
    }
  });
});
