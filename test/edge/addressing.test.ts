/**
 * Addressing at the edge, against a real worker: plus-addressing (default, custom delimiters,
 * off), postmaster on every domain, aliases to accounts and to external addresses (forwarded
 * through the outbound queue with SRS, and bounces of those forwards returned through reverse
 * SRS), catch-all, domain aliases — each changed through the admin API between messages, with
 * the RCPT-time check and the delivery agreeing — and the admin API's answers to bad input.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Account, Alias, DomainWithSettings, OutboundJob, StoredDelivery } from "../../common/contract.ts";
import { InboundPolicy } from "../../common/contract.ts";
import {
  checkRecipient,
  createAccounts,
  createAlias,
  deliverFrom,
  leaseOutbound,
  mailboxUids,
  reportOutbound,
  sampleMessage,
  setDomainSettings,
  startTestEdge,
  submitMessage,
  type TestEdge,
} from "../support/edge-api.ts";

const DEFAULT_POLICY = InboundPolicy.parse({});
const DEFAULT_SETTINGS = (domain: string) => ({
  plusDelimiter: "+",
  catchAll: null,
  aliasOf: null,
  inbound: DEFAULT_POLICY,
  mxHosts: [`mail.${domain}`],
  relayIps: [],
  reportLocalPart: "reports",
});
const SRS = /^SRS0=([a-z2-7]{6})=([a-z2-7]{2})=origin\.test=sender@example\.org$/;

describe("addressing", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  let dave: Account;
  let n = 0;
  /** Delivers a fresh message; returns the reply (status and body). */
  const send = (recipients: string[], mailFrom = "sender@origin.test") =>
    deliverFrom(edge, sampleMessage(`addressing-${++n}`), recipients, `addressing-key-${n}`, { mailFrom });
  const local = (account: Account, address = account.address) => ({ result: "local", accountId: account.id, address, policy: DEFAULT_POLICY });
  const inboxCount = async (account: Account) => (await mailboxUids(edge, account.id, "INBOX")).length;
  /** Leases everything due and reports it delivered, so each test sees only its own jobs. */
  const drain = async () => {
    for (;;) {
      const jobs = await leaseOutbound(edge, "drain", { max: 100 });
      if (jobs.length === 0) return;
      for (const j of jobs) {
        await reportOutbound(edge, j.id, { leaseToken: j.leaseToken, results: j.recipients.map((recipient) => ({ recipient, outcome: "delivered" })) });
      }
    }
  };

  before(async () => {
    edge = await startTestEdge();
    [alice, bob] = (await createAccounts(edge, ["alice@example.org", "bob@example.org"])) as [Account, Account];
    [dave] = (await createAccounts(edge, ["dave@example.net"])) as [Account];
    for (const name of ["mirror.test", "empty.test"]) assert.equal((await edge.admin("POST", "/domains", { name })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });
  beforeEach(drain);

  it("has the contract's defaults for a new domain", async () => {
    const r = await edge.admin<DomainWithSettings>("GET", "/domains/example.org");
    assert.equal(r.status, 200);
    assert.equal(r.body.name, "example.org");
    assert.deepEqual(r.body.settings, DEFAULT_SETTINGS("example.org"));
  });

  it("plus-addressing: '+' by default, then custom delimiters, then off, each for the next message", async () => {
    assert.deepEqual(await checkRecipient(edge, "alice+lists@example.org"), local(alice));
    let before = await inboxCount(alice);
    const plus = await send(["alice+lists@example.org"]);
    assert.equal(plus.status, 200);
    assert.deepEqual(plus.body.stored.map((s) => [s.recipient, s.accountId]), [["alice+lists@example.org", alice.id]]);
    assert.equal(await inboxCount(alice), before + 1);

    // Several characters: each one is a delimiter (Postfix recipient_delimiter); the first one found splits.
    await setDomainSettings(edge, "example.org", { plusDelimiter: "-_" });
    assert.deepEqual(await checkRecipient(edge, "alice-news@example.org"), local(alice));
    assert.deepEqual(await checkRecipient(edge, "alice_x-y@example.org"), local(alice));
    assert.deepEqual(await checkRecipient(edge, "alice+lists@example.org"), { result: "unknown_user" });
    before = await inboxCount(alice);
    assert.equal((await send(["alice-news@example.org"])).status, 200);
    assert.equal(await inboxCount(alice), before + 1);
    assert.equal((await send(["alice+lists@example.org"])).status, 422);

    await setDomainSettings(edge, "example.org", { plusDelimiter: "" });
    assert.deepEqual(await checkRecipient(edge, "alice-news@example.org"), { result: "unknown_user" });
    const off = await send(["alice-news@example.org"]);
    assert.equal(off.status, 422);
    assert.equal(off.error?.code, "unknown_recipient");

    await setDomainSettings(edge, "example.org", { plusDelimiter: "+" });
    assert.deepEqual(await checkRecipient(edge, "alice+again@example.org"), local(alice));
  });

  it("postmaster exists on every domain that has an account: its postmaster alias, else its oldest account", async () => {
    assert.deepEqual(await checkRecipient(edge, "postmaster@example.org"), local(alice));
    assert.deepEqual(await checkRecipient(edge, "Postmaster@Example.NET"), local(dave));
    assert.deepEqual(await checkRecipient(edge, "postmaster+abuse@example.org"), local(alice));
    // A domain without any account has nobody to be its postmaster.
    assert.deepEqual(await checkRecipient(edge, "postmaster@empty.test"), { result: "unknown_user" });

    const before = await inboxCount(dave);
    const r = await send(["postmaster@example.net"]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stored.map((s) => s.accountId), [dave.id]);
    assert.equal(await inboxCount(dave), before + 1);

    await createAlias(edge, "postmaster@example.org", ["bob@example.org"]);
    try {
      assert.deepEqual(await checkRecipient(edge, "postmaster@example.org"), { result: "local", accountId: null, address: "postmaster@example.org", policy: DEFAULT_POLICY });
      const viaAlias = await send(["postmaster@example.org"]);
      assert.deepEqual(viaAlias.body.stored.map((s) => s.accountId), [bob.id]);
    } finally {
      assert.equal((await edge.admin("DELETE", "/aliases/postmaster@example.org")).status, 204);
    }
    assert.deepEqual(await checkRecipient(edge, "postmaster@example.org"), local(alice));
  });

  it("an alias to two accounts stores one copy in each, once per account per delivery", async () => {
    const created = await createAlias(edge, "Team@example.org", ["alice@example.org", "bob+team@example.org", "alice@example.org"]);
    assert.equal(created.address, "team@example.org");
    assert.deepEqual(created.targets, ["alice@example.org", "bob+team@example.org"]);
    assert.deepEqual(await checkRecipient(edge, "team@example.org"), { result: "local", accountId: null, address: "team@example.org", policy: DEFAULT_POLICY });
    assert.deepEqual(await checkRecipient(edge, "team+x@example.org"), { result: "local", accountId: null, address: "team@example.org", policy: DEFAULT_POLICY });

    const [a0, b0] = [await inboxCount(alice), await inboxCount(bob)];
    const r = await send(["team@example.org", "alice@example.org", "team+dup@example.org"]);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.stored.map((s) => [s.recipient, s.accountId]),
      [
        ["team@example.org", alice.id],
        ["team@example.org", bob.id],
      ],
    );
    assert.equal(await inboxCount(alice), a0 + 1);
    assert.equal(await inboxCount(bob), b0 + 1);

    const listed = await edge.admin<{ aliases: Alias[] }>("GET", "/aliases?domain=example.org");
    assert.equal(listed.status, 200);
    assert.ok(listed.body.aliases.some((a) => a.address === "team@example.org"));
  });

  it("an alias to an external address forwards it through the outbound queue with an SRS sender", async () => {
    await createAlias(edge, "fwd@example.org", ["carol@remote.test", "bob@example.org", "erin@remote.test", "frank@other.test"]);
    const b0 = await inboxCount(bob);
    const r = await send(["fwd@example.org"]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stored.map((s) => s.accountId), [bob.id]);
    assert.equal(await inboxCount(bob), b0 + 1);

    const jobs = await leaseOutbound(edge, "relay-a", { max: 10 });
    const byDomain = new Map(jobs.map((j) => [j.domain, j]));
    assert.deepEqual([...byDomain.keys()].sort(), ["other.test", "remote.test"]);
    assert.deepEqual(byDomain.get("remote.test")!.recipients, ["carol@remote.test", "erin@remote.test"]);
    assert.deepEqual(byDomain.get("other.test")!.recipients, ["frank@other.test"]);
    for (const job of jobs) assert.match(job.mailFrom, SRS);
    const raw = await edge.relayRaw("GET", `/outbound/${jobs[0]!.id}/raw?lease=${jobs[0]!.leaseToken}`);
    assert.equal(raw.status, 200);
    assert.match(await raw.text(), /Subject: test addressing-/);

    const record = await edge.admin<StoredDelivery>("GET", `/deliveries/${r.body.deliveryId}`);
    assert.deepEqual(record.body.forwarded, ["carol@remote.test", "erin@remote.test", "frank@other.test"]);
    assert.deepEqual(record.body.copies, [{ address: "bob@example.org", mailbox: "INBOX" }]);
    for (const job of jobs) {
      await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: job.recipients.map((recipient) => ({ recipient, outcome: "delivered" })) });
    }
  });

  it("forwards mail from the null sender with the null sender, and an alias with only external targets stores no copy", async () => {
    await createAlias(edge, "outside@example.org", ["carol@remote.test"]);
    const r = await send(["outside@example.org"], "");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stored, []);
    const jobs = await leaseOutbound(edge, "relay-a");
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.mailFrom, "");
    assert.deepEqual(jobs[0]!.recipients, ["carol@remote.test"]);
  });

  it("returns a bounce of forwarded mail to the original sender through its SRS address, and refuses forged ones", async () => {
    await createAlias(edge, "relayed@example.org", ["gina@remote.test"]);
    assert.equal((await send(["relayed@example.org"])).status, 200);
    const [job] = await leaseOutbound(edge, "relay-a");
    assert.ok(job);
    const srs = job.mailFrom;
    assert.match(srs, SRS);

    // The SRS address is ours at RCPT time, in any letter case, and leads back to the sender.
    assert.deepEqual(await checkRecipient(edge, srs.toLowerCase()), { result: "local", accountId: null, address: srs.toLowerCase(), policy: DEFAULT_POLICY });
    const forged = srs.replace(SRS, (_all, hash: string, tt: string) => `SRS0=${hash === "aaaaaa" ? "bbbbbb" : "aaaaaa"}=${tt}=origin.test=sender@example.org`);
    assert.deepEqual(await checkRecipient(edge, forged), { result: "unknown_user" });
    assert.deepEqual(await checkRecipient(edge, srs.replace("=origin.test=", "=elsewhere.test=")), { result: "unknown_user" });

    const bounce = await send([srs], "");
    assert.equal(bounce.status, 200);
    assert.deepEqual(bounce.body.stored, []);
    await reportOutbound(edge, job.id, { leaseToken: job.leaseToken, results: [{ recipient: "gina@remote.test", outcome: "delivered" }] });
    const back = await leaseOutbound(edge, "relay-a");
    assert.deepEqual(back.map((j) => [j.domain, j.recipients, j.mailFrom]), [["origin.test", ["sender@origin.test"], ""]]);
  });

  it("sends a DSN for a forward the next hop refused to the original sender, with the null sender", async () => {
    await createAlias(edge, "refused@example.org", ["hank@remote.test"]);
    assert.equal((await send(["refused@example.org"])).status, 200);
    const [job] = await leaseOutbound(edge, "relay-a");
    assert.ok(job);
    const report = await reportOutbound(edge, job.id, {
      leaseToken: job.leaseToken,
      results: [{ recipient: "hank@remote.test", outcome: "failed", smtp: { code: 550, enhanced: "5.1.1", message: "no such user" } }],
    });
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.bounced, ["hank@remote.test"]);
    const dsn = await leaseOutbound(edge, "relay-a");
    assert.deepEqual(dsn.map((j) => [j.recipients, j.mailFrom]), [[["sender@origin.test"], ""]]);
    const raw = await (await edge.relayRaw("GET", `/outbound/${dsn[0]!.id}/raw?lease=${dsn[0]!.leaseToken}`)).text();
    assert.match(raw, /^To: <sender@origin\.test>\r$/m);
    assert.match(raw, /^From: Mail Delivery System <MAILER-DAEMON@example\.org>\r$/m);
    assert.match(raw, /hank@remote\.test/);
  });

  it("catch-all: off by default, on for the next message, off again", async () => {
    assert.deepEqual(await checkRecipient(edge, "nobody@example.org"), { result: "unknown_user" });
    const settings = await setDomainSettings(edge, "example.org", { catchAll: "Bob@example.org" });
    assert.equal(settings.settings.catchAll, "bob@example.org");
    assert.deepEqual(await checkRecipient(edge, "nobody@example.org"), local(bob));
    assert.deepEqual(await checkRecipient(edge, "alice@example.org"), local(alice));
    const b0 = await inboxCount(bob);
    const r = await send(["nobody@example.org", "whoever+tag@example.org"]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stored.map((s) => [s.recipient, s.accountId]), [["nobody@example.org", bob.id]]);
    assert.equal(await inboxCount(bob), b0 + 1);

    await setDomainSettings(edge, "example.org", { catchAll: null });
    assert.deepEqual(await checkRecipient(edge, "nobody@example.org"), { result: "unknown_user" });
    assert.equal((await send(["nobody@example.org"])).status, 422);
  });

  it("a domain alias mirrors another domain's accounts and aliases, with its own inbound policy", async () => {
    assert.deepEqual(await checkRecipient(edge, "alice@mirror.test"), { result: "unknown_user" });
    const mirror = await setDomainSettings(edge, "mirror.test", { aliasOf: "Example.ORG", inbound: { dmarcReject: "quarantine" } });
    assert.equal(mirror.settings.aliasOf, "example.org");
    const policy = { ...DEFAULT_POLICY, dmarcReject: "quarantine" };
    assert.deepEqual(await checkRecipient(edge, "alice@mirror.test"), { result: "local", accountId: alice.id, address: "alice@example.org", policy });
    assert.deepEqual(await checkRecipient(edge, "alice+x@mirror.test"), { result: "local", accountId: alice.id, address: "alice@example.org", policy });
    assert.deepEqual(await checkRecipient(edge, "postmaster@mirror.test"), { result: "local", accountId: alice.id, address: "alice@example.org", policy });
    assert.deepEqual(await checkRecipient(edge, "team@mirror.test"), { result: "local", accountId: null, address: "team@example.org", policy });
    assert.deepEqual(await checkRecipient(edge, "nobody@mirror.test"), { result: "unknown_user" });

    const a0 = await inboxCount(alice);
    const r = await send(["alice@mirror.test"]);
    assert.deepEqual(r.body.stored.map((s) => [s.recipient, s.accountId]), [["alice@mirror.test", alice.id]]);
    assert.equal(await inboxCount(alice), a0 + 1);

    await setDomainSettings(edge, "mirror.test", { aliasOf: null });
    assert.deepEqual(await checkRecipient(edge, "alice@mirror.test"), { result: "unknown_user" });
    assert.equal((await send(["alice@mirror.test"])).status, 422);
  });

  it("follows aliases of aliases; an alias whose targets are gone is unknown", async () => {
    await createAlias(edge, "inner@example.net", ["dave@example.net", "ivan@remote.test"]);
    await createAlias(edge, "outer@example.org", ["inner@example.net"]);
    assert.deepEqual(await checkRecipient(edge, "outer@example.org"), { result: "local", accountId: null, address: "outer@example.org", policy: DEFAULT_POLICY });
    const r = await send(["outer@example.org"]);
    assert.deepEqual(r.body.stored.map((s) => s.accountId), [dave.id]);
    const [job] = await leaseOutbound(edge, "relay-a");
    // The SRS domain is that of the alias that named the external address.
    assert.match(job!.mailFrom, /@example\.net$/);

    await createAlias(edge, "ping@example.org", ["bob@example.org"]);
    await createAlias(edge, "pong@example.org", ["ping+x@example.org"]);
    assert.deepEqual(await checkRecipient(edge, "pong@example.org"), { result: "local", accountId: null, address: "pong@example.org", policy: DEFAULT_POLICY });
    assert.equal((await edge.admin("DELETE", "/aliases/ping%40example.org")).status, 204);
    // Re-creating ping as a loop through pong is refused: its target resolves to nothing now.
    const loop = await edge.admin("POST", "/aliases", { address: "ping@example.org", targets: ["pong@example.org"] });
    assert.equal(loop.status, 400);
    assert.deepEqual(await checkRecipient(edge, "pong@example.org"), { result: "unknown_user" });
    assert.equal((await send(["pong@example.org"])).status, 422);
  });

  it("a replayed delivery stores and queues nothing new, even after the alias changed", async () => {
    await createAlias(edge, "replay@example.org", ["alice@example.org", "jo@remote.test"]);
    const raw = sampleMessage("replayed-forward");
    const first = await deliverFrom(edge, raw, ["replay@example.org"], "replayed-forward-key");
    assert.equal(first.status, 200);
    assert.equal((await leaseOutbound(edge, "relay-a")).length, 1);
    const a0 = await inboxCount(alice);
    assert.equal((await edge.admin("DELETE", "/aliases/replay@example.org")).status, 204);
    const again = await Promise.all([1, 2].map(() => deliverFrom(edge, raw, ["replay@example.org"], "replayed-forward-key")));
    for (const r of again) {
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { ...first.body, duplicate: true });
    }
    assert.equal(await inboxCount(alice), a0);
    assert.deepEqual(await leaseOutbound(edge, "relay-a"), []);
  });

  it("resolves submissions' recipients the same way: alias copies at once, external targets queued", async () => {
    await createAlias(edge, "crew@example.org", ["bob@example.org", "kim@remote.test"]);
    const raw = sampleMessage("submitted-to-alias");
    const s = await submitMessage(edge, alice.id, raw, ["crew@example.org", "alice+me@example.org"], "submission-alias-1", "alice@example.org");
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.deepEqual(s.body.local.map((c) => [c.recipient, c.accountId]), [["crew@example.org", bob.id], ["alice+me@example.org", alice.id]]);
    assert.deepEqual(s.body.queued, ["kim@remote.test"]);
    const jobs: OutboundJob[] = await leaseOutbound(edge, "relay-a");
    assert.deepEqual(jobs.map((j) => [j.recipients, j.mailFrom]), [[["kim@remote.test"], "alice@example.org"]]);
  });

  describe("admin input", () => {
    const patch = (domain: string, body: unknown) => edge.admin("PATCH", `/domains/${domain}`, body);

    it("refuses bad domain settings with 400 and a reason, changing nothing", async () => {
      const cases: [string, unknown, RegExp][] = [
        ["example.org", { catchAll: "dave@example.net" }, /catchAll: dave@example\.net is not an account of example\.org/],
        ["example.org", { catchAll: "ghost@example.org" }, /catchAll: ghost@example\.org is not an account/],
        ["example.org", { catchAll: "not an address" }, /catchAll: not an address/],
        ["example.org", { aliasOf: "example.org" }, /cannot mirror itself/],
        ["example.org", { aliasOf: "unknown.test" }, /unknown\.test is not one of our domains/],
        ["example.org", { plusDelimiter: "@" }, /plusDelimiter/],
        ["example.org", { plusDelimiter: "abc" }, /letters and digits/],
        ["example.org", { plusDelimiter: "++++++" }, /plusDelimiter/],
        ["example.org", { inbound: { dmarcReject: "bounce" } }, /inbound\.dmarcReject/],
        ["example.org", { inbound: { dmarcRejct: "reject" } }, /dmarcRejct/],
        ["example.org", { catchall: "bob@example.org" }, /catchall/],
        ["example.org", "not json", /not valid JSON/],
        ["example.org", { mxHosts: ["mail.example.org", "not a host"] }, /mxHosts\.1: not a host name/],
        ["example.org", { mxHosts: ["mx_1.example.org"] }, /mxHosts\.0: not a host name/],
        ["example.org", { mxHosts: [] }, /mxHosts/],
        ["example.org", { mxHosts: ["mx.example.org", "MX.example.org"] }, /mxHosts: mx\.example\.org is listed twice/],
        ["example.org", { relayIps: ["192.0.2.300"] }, /relayIps\.0/],
        ["example.org", { relayIps: ["mail.example.org"] }, /relayIps\.0/],
        ["example.org", { relayIps: ["2001:db8::1", "2001:DB8::1"] }, /relayIps: 2001:db8::1 is listed twice/],
        ["example.org", { reportLocalPart: "re ports" }, /reportLocalPart: not a local part/],
        ["example.org", { reportLocalPart: "reports@example.org" }, /reportLocalPart: not a local part/],
        ["example.org", { reportLocalPart: "" }, /reportLocalPart: not a local part/],
        ["example.org", { reportLocalPart: "alice" }, /reportLocalPart: alice@example\.org is an account or alias/],
        ["example.org", { reportLocalPart: "team" }, /reportLocalPart: team@example\.org is an account or alias/],
        ["example.org", { reportLocalPart: "postmaster" }, /reportLocalPart: postmaster must reach a person/],
        ["example.org", { mtaSts: { maxAge: 3600 } }, /mtaSts\.maxAge/],
        ["example.org", { mtaSts: { maxAge: 31557601 } }, /mtaSts\.maxAge/],
        ["example.org", { mtaSts: { mode: "strict" } }, /mtaSts\.mode/],
        ["example.org", { mtaSts: { mx: ["mail example.org"] } }, /mtaSts\.mx\.0: not an MTA-STS mx pattern/],
        ["example.org", { mtaSts: { mx: [] } }, /mtaSts\.mx/],
      ];
      const domainBefore = await edge.admin<DomainWithSettings>("GET", "/domains/example.org");
      for (const [domain, body, reason] of cases) {
        const r = await patch(domain, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status}`);
        assert.equal(r.error?.code, "bad_request");
        assert.match(r.error?.message ?? "", reason);
      }
      // Chains: a mirror cannot be mirrored, and a mirrored domain cannot mirror.
      await setDomainSettings(edge, "mirror.test", { aliasOf: "example.org" });
      try {
        assert.match((await patch("empty.test", { aliasOf: "mirror.test" })).error?.message ?? "", /mirror\.test mirrors another domain itself/);
        assert.match((await patch("example.org", { aliasOf: "example.net" })).error?.message ?? "", /mirror\.test mirrors example\.org/);
      } finally {
        await setDomainSettings(edge, "mirror.test", { aliasOf: null });
      }
      const unchanged = await edge.admin<DomainWithSettings>("GET", "/domains/example.org");
      assert.deepEqual(unchanged.body.settings, DEFAULT_SETTINGS("example.org"));
      assert.deepEqual(unchanged.body.mtaSts, domainBefore.body.mtaSts);
      assert.equal((await patch("unknown.test", {})).status, 404);
      assert.equal((await edge.admin("GET", "/domains/unknown.test")).status, 404);
    });

    it("merges a partial inbound policy into the stored one", async () => {
      await setDomainSettings(edge, "example.net", { inbound: { spfFail: "reject" } });
      const r = await setDomainSettings(edge, "example.net", { inbound: { dkimFail: "quarantine" } });
      assert.deepEqual(r.settings.inbound, { ...DEFAULT_POLICY, spfFail: "reject", dkimFail: "quarantine" });
      assert.deepEqual(await checkRecipient(edge, "dave@example.net"), {
        result: "local",
        accountId: dave.id,
        address: "dave@example.net",
        policy: { ...DEFAULT_POLICY, spfFail: "reject", dkimFail: "quarantine" },
      });
    });

    it("refuses bad aliases with a 4xx and a reason", async () => {
      const cases: [unknown, number, string, RegExp][] = [
        [{ address: "x@unknown.test", targets: ["alice@example.org"] }, 422, "not_found", /not served/],
        [{ address: "alice@example.org", targets: ["bob@example.org"] }, 409, "conflict", /account has this address/],
        [{ address: "self@example.org", targets: ["self@example.org"] }, 400, "bad_request", /the alias itself/],
        [{ address: "x@example.org", targets: ["ghost@example.org"] }, 400, "bad_request", /ghost@example\.org is no address of ours/],
        [{ address: "x@example.org", targets: ["someone@bad_domain"] }, 400, "bad_request", /does not end in a domain name/],
        [{ address: "x@example.org", targets: [] }, 400, "bad_request", /targets/],
        [{ address: "x@example.org", targets: ["not an address"] }, 400, "bad_request", /targets\.0: not an address/],
        [{ address: "x@example.org" }, 400, "bad_request", /targets/],
        [{ address: "x@example.org", targets: ["bob@example.org"], extra: 1 }, 400, "bad_request", /extra/],
      ];
      for (const [body, status, code, reason] of cases) {
        const r = await edge.admin("POST", "/aliases", body);
        assert.equal(r.status, status, JSON.stringify(body));
        assert.equal(r.error?.code, code);
        assert.match(r.error?.message ?? "", reason);
      }
      await createAlias(edge, "twice@example.org", ["bob@example.org"]);
      const again = await edge.admin("POST", "/aliases", { address: "twice@example.org", targets: ["alice@example.org"] });
      assert.equal(again.status, 409);
      assert.match(again.error?.message ?? "", /Alias already exists/);
      // An account cannot take an alias's address either.
      const account = await edge.admin("POST", "/accounts", { address: "twice@example.org", password: "correct horse battery" });
      assert.equal(account.status, 409);

      assert.equal((await edge.admin("DELETE", "/aliases/nobody@example.org")).status, 404);
      assert.equal((await edge.admin("DELETE", "/aliases/not-an-address")).status, 400);
      assert.equal((await edge.admin("GET", "/aliases?domain=unknown.test")).status, 404);
      const all = await edge.admin<{ aliases: Alias[] }>("GET", "/aliases");
      assert.deepEqual(
        all.body.aliases.map((a) => a.address),
        [...all.body.aliases.map((a) => a.address)].sort(),
      );
    });
  });
});
