/**
 * The outbound queue as the operator sees it, against a real edge: jobs are made the real way (an
 * account submits to outside recipients) and driven through real leases and reports; the admin
 * API lists them (pending or all, by destination domain, newest first), shows one, retries one now
 * (`postqueue -i`) and deletes one (`postsuper -d`, no DSN), and refuses both while a relay holds
 * the job. Time moves through the edge's test clock, as the queue itself sees it.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Account, MailboxSnapshot, OutboundJob, QueuedJob, QueuedJobList } from "../../common/contract.ts";
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

describe("the outbound queue for operators", () => {
  let edge: TestEdge;
  let alice: Account;
  let clock = 0;
  /** Leases handed out here, by job id, so cleanup can settle the ones still held. */
  const held = new Map<string, OutboundJob>();

  const advance = async (ms: number) => {
    clock += ms;
    await setEdgeClock(edge, clock);
  };
  const lease = async (options: { leaseSeconds?: number } = {}) => {
    const jobs = await leaseOutbound(edge, "relay-a", { max: 100, ...options });
    for (const j of jobs) held.set(j.id, j);
    return jobs;
  };
  const list = async (query = "") => {
    const r = await edge.admin<QueuedJobList>("GET", `/queue${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.jobs;
  };
  const show = (id: string) => edge.admin<QueuedJob>("GET", `/queue/${id}`);
  /** Submits from alice to `to`; returns her submission's jobs as the admin API lists them, by domain. */
  const submit = async (tag: string, to: string[]) => {
    const raw = sampleMessage(tag);
    const s = await submitMessage(edge, alice.id, raw, to, `key-${tag}-0000`, "alice@example.org");
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const jobs = (await list("?state=all")).filter((j) => j.recipients.some((r) => to.includes(r.recipient)));
    return { raw, jobs: new Map(jobs.map((j) => [j.domain, j])) };
  };
  const inboxCount = async () =>
    (await edge.relay<MailboxSnapshot>("POST", `/accounts/${alice.id}/mailboxes/select`, { name: "INBOX" })).body.messages.length;

  before(async () => {
    edge = await startTestEdge({ allowFaultInjection: true });
    [alice] = (await createAccounts(edge, ["alice@example.org"])) as [Account];
  });
  after(async () => {
    await edge?.stop();
  });
  // Each test starts with an empty queue: settle the leases still held, then delete every job.
  beforeEach(async () => {
    for (const j of held.values()) {
      await reportOutbound(edge, j.id, { leaseToken: j.leaseToken, results: j.recipients.map((recipient) => ({ recipient, outcome: "delivered" })) });
    }
    held.clear();
    for (const j of await list("?state=all")) assert.equal((await edge.admin("DELETE", `/queue/${j.id}`)).status, 204);
    assert.deepEqual(await list("?state=all"), []);
  });

  it("lists pending jobs newest first, with their submission, account and recipients", async () => {
    const first = await submit("list-1", ["x@remote.test", "Y@remote.test", "z@other.test"]);
    await advance(MINUTE);
    const second = await submit("list-2", ["w@third.test"]);

    const jobs = await list();
    assert.deepEqual(
      jobs.map((j) => j.domain),
      ["third.test", "other.test", "remote.test"],
      "newest first; of one submission's jobs, the one made last first",
    );
    const remote = jobs.find((j) => j.domain === "remote.test")!;
    assert.match(remote.id, /^[0-9a-f-]{36}$/);
    assert.equal(remote.mailFrom, "alice@example.org");
    assert.equal(remote.account, "alice@example.org");
    assert.equal(remote.size, first.raw.byteLength);
    assert.equal(remote.attempts, 0);
    assert.equal(remote.nextAttemptAt, remote.createdAt, "due at once");
    assert.equal(remote.leaseExpiresAt, null);
    assert.equal(remote.relayId, null);
    assert.deepEqual(remote.recipients, [
      { recipient: "x@remote.test", state: "queued", attempts: 0, lastResult: null },
      { recipient: "y@remote.test", state: "queued", attempts: 0, lastResult: null },
    ]);
    assert.ok(jobs[0]!.createdAt >= remote.createdAt + MINUTE);
    assert.equal(jobs[0]!.size, second.raw.byteLength);
  });

  it("filters by destination domain, in any case", async () => {
    await submit("filter", ["x@remote.test", "z@other.test"]);
    assert.deepEqual((await list("?domain=other.test")).map((j) => j.domain), ["other.test"]);
    assert.deepEqual((await list("?domain=OTHER.test&state=all")).map((j) => j.domain), ["other.test"]);
    assert.deepEqual(await list("?domain=nowhere.test"), []);
  });

  it("shows one job as the list does, and 404 not_found for an id that is no job", async () => {
    const { jobs } = await submit("show", ["x@remote.test"]);
    const listed = jobs.get("remote.test")!;
    const r = await show(listed.id);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, listed);
    for (const id of ["00000000-0000-0000-0000-000000000000", "not-a-job", listed.id.toUpperCase()]) {
      for (const reply of [await show(id), await edge.admin("POST", `/queue/${id}/retry`), await edge.admin("DELETE", `/queue/${id}`)]) {
        assert.equal(reply.status, 404, id);
        assert.equal(reply.error?.code, "not_found");
      }
    }
  });

  it("refuses a bad state, a bad domain and an unknown parameter with 400 and the reason", async () => {
    for (const [query, field] of [
      ["?state=deferred", "state"],
      ["?domain=not%20a%20domain", "domain"],
      ["?domain=", "domain"],
      ["?stat=all", "stat"],
    ] as const) {
      const r = await edge.admin("GET", `/queue${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.error?.code, "bad_request");
      assert.match(r.error?.message ?? "", new RegExp(field), query);
    }
  });

  it("shows a leased job with its lease and relay, and refuses to retry or delete it with 409", async () => {
    const { jobs } = await submit("leased", ["x@remote.test"]);
    const id = jobs.get("remote.test")!.id;
    const [leased] = await lease({ leaseSeconds: 120 });
    assert.equal(leased?.id, id);

    const r = (await show(id)).body;
    assert.equal(r.leaseExpiresAt, leased!.leaseExpiresAt);
    assert.equal(r.relayId, "relay-a");
    assert.equal(r.attempts, 1);
    for (const reply of [await edge.admin("POST", `/queue/${id}/retry`), await edge.admin("DELETE", `/queue/${id}`)]) {
      assert.equal(reply.status, 409);
      assert.equal(reply.error?.code, "conflict");
    }
    assert.deepEqual((await show(id)).body, r, "nothing changed");

    // Once the lease has run out, no relay holds the job: the operator may act again.
    await advance(3 * MINUTE);
    const later = (await show(id)).body;
    assert.equal(later.leaseExpiresAt, null);
    assert.equal(later.relayId, "relay-a", "the relay that tried last");
    assert.equal((await edge.admin("POST", `/queue/${id}/retry`)).status, 200);
  });

  it("retries a deferred job now: it and its pending recipients are due at once, and a relay gets it", async () => {
    const { jobs } = await submit("retry", ["x@remote.test", "y@remote.test"]);
    const id = jobs.get("remote.test")!.id;
    const [leased] = await lease();
    const report = await reportOutbound(edge, id, {
      leaseToken: leased!.leaseToken,
      results: [
        { recipient: "x@remote.test", outcome: "delivered", smtp: { code: 250, enhanced: "2.0.0", message: "ok" } },
        { recipient: "y@remote.test", outcome: "deferred", smtp: { code: 451, enhanced: "4.3.0", message: "try later" }, mx: "mx.remote.test" },
      ],
    });
    assert.equal(report.status, 200);
    held.delete(id);
    const deferred = (await show(id)).body;
    assert.ok(deferred.nextAttemptAt! > Date.now() + clock, "backed off");
    assert.deepEqual(await lease(), [], "not due yet");

    const retried = await edge.admin<QueuedJob>("POST", `/queue/${id}/retry`);
    assert.equal(retried.status, 200);
    assert.ok(retried.body.nextAttemptAt! <= Date.now() + clock);
    assert.equal(retried.body.attempts, 1, "a retry is not an attempt");
    assert.deepEqual(retried.body.recipients, [
      { recipient: "x@remote.test", state: "delivered", attempts: 1, lastResult: { recipient: "x@remote.test", outcome: "delivered", smtp: { code: 250, enhanced: "2.0.0", message: "ok" } } },
      {
        recipient: "y@remote.test",
        state: "deferred",
        attempts: 1,
        lastResult: { recipient: "y@remote.test", outcome: "deferred", smtp: { code: 451, enhanced: "4.3.0", message: "try later" }, mx: "mx.remote.test" },
      },
    ]);
    assert.deepEqual(await list(), [retried.body]);

    const again = await lease();
    assert.deepEqual(
      again.map((j) => [j.id, j.recipients, j.attempt]),
      [[id, ["y@remote.test"], 2]],
    );
  });

  it("lists a finished job only under state=all; retrying it is 409, deleting it removes it", async () => {
    const { jobs } = await submit("done", ["x@remote.test"]);
    const id = jobs.get("remote.test")!.id;
    const [leased] = await lease();
    assert.equal((await reportOutbound(edge, id, { leaseToken: leased!.leaseToken, results: [{ recipient: "x@remote.test", outcome: "delivered" }] })).status, 200);
    held.delete(id);

    assert.deepEqual(await list(), []);
    const finished = await list("?state=all");
    assert.deepEqual(finished.map((j) => [j.id, j.nextAttemptAt, j.recipients[0]!.state]), [[id, null, "delivered"]]);
    const retry = await edge.admin("POST", `/queue/${id}/retry`);
    assert.equal(retry.status, 409);
    assert.equal(retry.error?.code, "conflict");

    assert.equal((await edge.admin("DELETE", `/queue/${id}`)).status, 204);
    assert.deepEqual(await list("?state=all"), []);
    assert.equal((await show(id)).status, 404);
  });

  it("deletes a pending job: its recipients are dropped without a DSN and no relay gets it", async () => {
    const { jobs } = await submit("delete", ["x@remote.test", "z@other.test"]);
    const before = await inboxCount();
    const doomed = jobs.get("remote.test")!.id;
    assert.equal((await edge.admin("DELETE", `/queue/${doomed}`)).status, 204);
    assert.equal((await show(doomed)).status, 404);
    assert.deepEqual((await list()).map((j) => j.domain), ["other.test"], "the submission's other job stays");

    const leased = await lease();
    assert.deepEqual(
      leased.map((j) => j.domain),
      ["other.test"],
    );
    assert.equal(await inboxCount(), before, "no bounce for the sender");
    assert.equal((await edge.admin("DELETE", `/queue/${doomed}`)).status, 404, "already gone");
  });

  it("requires the admin token", async () => {
    assert.equal((await edge.admin("GET", "/queue", undefined, null)).status, 401);
    assert.equal((await edge.admin("GET", "/queue", undefined, "test-relay-key-0123456789")).status, 401);
  });
});
