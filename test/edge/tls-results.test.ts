/**
 * TLS session results (TLS-RPT input) against a real edge: stored with the delivery report that
 * carries them, under the report's lease, and listed newest first by the admin API.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, StoredTlsResult, TlsSessionResult } from "../../common/contract.ts";
import {
  createAccounts,
  leaseOutbound,
  reportOutbound,
  sampleMessage,
  setEdgeClock,
  startTestEdge,
  submitMessage,
  RELAY_KEY,
  type TestEdge,
} from "../support/edge-api.ts";

type TlsResults = { results: StoredTlsResult[] };

describe("TLS session results", () => {
  let edge: TestEdge;
  let alice: Account;
  let clock = 0;
  const list = async (query = "") => {
    const r = await edge.admin<TlsResults>("GET", `/tls-results${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.results;
  };
  /** Submits one message from alice to `to` and leases its job. */
  const submitAndLease = async (tag: string, to: string, leaseSeconds = 300) => {
    const s = await submitMessage(edge, alice.id, sampleMessage(tag), [to], `key-${tag}-000`, "alice@example.org");
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const jobs = await leaseOutbound(edge, "relay-a", { leaseSeconds });
    assert.equal(jobs.length, 1);
    return jobs[0]!;
  };

  before(async () => {
    edge = await startTestEdge({ allowFaultInjection: true });
    alice = (await createAccounts(edge, ["alice@example.org"]))[0]!;
  });
  after(async () => {
    await edge?.stop();
  });

  it("stores every TLS result of a report with its job and lists them, newest first", async () => {
    const job = await submitAndLease("tls", "x@remote.test");
    const sts: TlsSessionResult = {
      policyType: "sts",
      policyDomain: "Remote.TEST",
      policyStrings: ["version: STSv1", "mode: enforce", "mx: mx1.remote.test", "max_age: 86400"],
      mxHost: "mx1.remote.test.",
      receivingIp: "192.0.2.10",
      result: "certificate-expired",
      detail: "certificate has expired",
    };
    const ok: TlsSessionResult = { policyType: "sts", policyDomain: "remote.test", mxHost: "mx2.remote.test", result: "success" };
    const r = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "x@remote.test", outcome: "delivered", mx: "mx2.remote.test" }],
      tls: [sts, ok],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const stored = await list("?domain=remote.test");
    assert.equal(stored.length, 2);
    const [second, first] = stored;
    assert.deepEqual({ ...first!, at: 0 }, {
      policyType: "sts",
      policyDomain: "remote.test",
      policyStrings: sts.policyStrings,
      mxHost: "mx1.remote.test",
      receivingIp: "192.0.2.10",
      result: "certificate-expired",
      detail: "certificate has expired",
      jobId: job.id,
      at: 0,
    });
    assert.deepEqual({ ...second!, at: 0 }, {
      policyType: "sts",
      policyDomain: "remote.test",
      policyStrings: [],
      mxHost: "mx2.remote.test",
      receivingIp: null,
      result: "success",
      detail: null,
      jobId: job.id,
      at: 0,
    });
    assert.ok(Math.abs(first!.at - Date.now()) < 60_000);
    assert.ok(second!.at >= first!.at);
  });

  it("filters by policy domain, case-insensitively, and lists every domain without a filter", async () => {
    const job = await submitAndLease("tls-other", "y@other.test");
    await advance(1000);
    const r = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "y@other.test", outcome: "deferred", detail: "STARTTLS not offered" }],
      tls: [{ policyType: "no-policy-found", policyDomain: "other.test", mxHost: "mx.other.test", result: "starttls-not-supported" }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const other = await list("?domain=OTHER.test");
    assert.deepEqual(other.map((t) => [t.policyType, t.policyDomain, t.result, t.jobId]), [["no-policy-found", "other.test", "starttls-not-supported", job.id]]);
    assert.equal((await list("?domain=remote.test")).length, 2);
    const all = await list();
    assert.deepEqual(all.map((t) => t.policyDomain), ["other.test", "remote.test", "remote.test"]);
    assert.deepEqual(await list("?domain=nobody.test"), []);
  });

  it("stores nothing from a report whose lease token is stale", async () => {
    const job = await submitAndLease("tls-stale", "z@stale.test", 30);
    await advance(31_000);
    const [again] = await leaseOutbound(edge, "relay-b");
    assert.equal(again?.id, job.id);

    const tls: TlsSessionResult[] = [{ policyType: "tlsa", policyDomain: "stale.test", policyStrings: ["3 1 1 abcd"], mxHost: "mx.stale.test", result: "tlsa-invalid" }];
    const stale = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "z@stale.test", outcome: "delivered" }], tls });
    assert.equal(stale.status, 409);
    assert.equal(stale.error?.code, "conflict");
    assert.deepEqual(await list("?domain=stale.test"), []);

    const current = await reportOutbound(edge, job.id, { leaseToken: again!.leaseToken, results: [{ recipient: "z@stale.test", outcome: "delivered" }], tls });
    assert.equal(current.status, 200);
    assert.deepEqual((await list("?domain=stale.test")).map((t) => [t.result, t.policyStrings, t.jobId]), [["tlsa-invalid", ["3 1 1 abcd"], job.id]]);
    // The token was released with that report: replaying it stores nothing more.
    assert.equal((await reportOutbound(edge, job.id, { leaseToken: again!.leaseToken, results: [{ recipient: "z@stale.test", outcome: "delivered" }], tls })).status, 409);
    assert.equal((await list("?domain=stale.test")).length, 1);
  });

  it("stores TLS results with the bounce of a failed recipient, in the same report", async () => {
    const job = await submitAndLease("tls-bounce", "gone@bounce.test");
    const r = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "gone@bounce.test", outcome: "failed", smtp: { code: 550, enhanced: "5.1.1", message: "No such user" } }],
      tls: [{ policyType: "no-policy-found", policyDomain: "bounce.test", mxHost: "mx.bounce.test", receivingIp: "2001:db8::25", result: "success" }],
    });
    assert.deepEqual(r.body, { nextAttemptAt: null, bounced: ["gone@bounce.test"] });
    assert.deepEqual((await list("?domain=bounce.test")).map((t) => [t.receivingIp, t.jobId]), [["2001:db8::25", job.id]]);
  });

  it("stores the largest report the contract allows, more than one D1 value can carry", async () => {
    const job = await submitAndLease("tls-large", "l@large.test");
    const policyStrings = Array.from({ length: 50 }, (_, i) => `${i} `.padEnd(1000, "x"));
    const tls: TlsSessionResult[] = Array.from({ length: 100 }, (_, i) => ({
      policyType: "sts",
      policyDomain: "large.test",
      policyStrings,
      mxHost: `mx${i}.large.test`,
      result: "success",
    }));
    const r = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "l@large.test", outcome: "delivered" }], tls });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const stored = await list("?domain=large.test");
    assert.equal(stored.length, 100);
    assert.deepEqual(new Set(stored.map((t) => t.mxHost)), new Set(tls.map((t) => t.mxHost)));
    assert.ok(stored.every((t) => t.policyStrings.length === 50 && t.policyStrings[49] === policyStrings[49]));
  });

  it("refuses an invalid TLS result with 400 and stores nothing of the report", async () => {
    const job = await submitAndLease("tls-invalid", "v@invalid.test");
    const r = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "v@invalid.test", outcome: "delivered" }],
      tls: [{ policyType: "sts", policyDomain: "invalid.test", mxHost: "mx.invalid.test", result: "bogus" as "success" }],
    });
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
    assert.deepEqual(await list("?domain=invalid.test"), []);
    const ok = await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "v@invalid.test", outcome: "delivered" }] });
    assert.equal(ok.status, 200);
  });

  it("requires the admin token", async () => {
    for (const token of [null, RELAY_KEY]) {
      const r = await edge.admin("GET", "/tls-results", undefined, token);
      assert.equal(r.status, 401);
      assert.equal(r.error?.code, "unauthorized");
    }
  });

  async function advance(ms: number) {
    clock += ms;
    await setEdgeClock(edge, clock);
  }
});
