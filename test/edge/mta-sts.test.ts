/**
 * The public MTA-STS policy file (RFC 8461 §3.2), chosen by the Host header, against a real edge,
 * and the policy id senders watch in `_mta-sts`: it changes exactly when the served text does.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DomainSettingsUpdate, DomainWithSettings } from "../../common/contract.ts";
import { getWithHost, setDomainSettings, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("MTA-STS policy", () => {
  let edge: TestEdge;
  const policyFile = (domain: string) => getWithHost(edge.url, "/.well-known/mta-sts.txt", `mta-sts.${domain}`);
  const policyId = async (domain: string) => (await edge.admin<DomainWithSettings>("GET", `/domains/${domain}`)).body.mtaSts?.policyId;

  before(async () => {
    edge = await startTestEdge();
    const created = await edge.admin("POST", "/domains", {
      name: "example.org",
      mxHosts: ["mx1.example.org"],
      mtaSts: { mode: "enforce", mx: ["mx1.example.org", "*.backup.example.org"], maxAge: 86400 },
    });
    assert.equal(created.status, 201);
    assert.equal((await edge.admin("POST", "/domains", { name: "nopolicy.test", mtaSts: null })).status, 201);
    assert.equal((await edge.admin("POST", "/domains", { name: "follows.test" })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });

  it("serves the policy of a configured domain on mta-sts.<domain>, without a token", async () => {
    const r = await getWithHost(edge.url, "/.well-known/mta-sts.txt", "MTA-STS.Example.org:443");
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/plain/);
    assert.equal(r.text, "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.backup.example.org\r\nmax_age: 86400\r\n");
  });

  it("serves a new domain's default policy: testing, following its MX hosts, for a week", async () => {
    const r = await policyFile("follows.test");
    assert.equal(r.status, 200);
    assert.equal(r.text, "version: STSv1\r\nmode: testing\r\nmx: mail.follows.test\r\nmax_age: 604800\r\n");
  });

  it("answers 404 for a domain without a policy", async () => {
    const r = await policyFile("nopolicy.test");
    assert.equal(r.status, 404);
  });

  it("answers 404 for an unknown domain and for a host that is not mta-sts.*", async () => {
    for (const host of ["mta-sts.unknown.test", "example.org", "www.example.org"]) {
      const r = await getWithHost(edge.url, "/.well-known/mta-sts.txt", host);
      assert.equal(r.status, 404, host);
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "not_found");
    }
  });

  it("changes the policy id when mode, mx or max_age change, and keeps it for unrelated settings", async () => {
    const seen = new Set<string>();
    const expectNew = async (what: string) => {
      const id = await policyId("example.org");
      assert.match(id ?? "", /^[0-9a-f]{16}$/);
      assert.ok(!seen.has(id!), `${what}: the id must change`);
      seen.add(id!);
      return id!;
    };
    await expectNew("initial");
    await setDomainSettings(edge, "example.org", { mtaSts: { mode: "testing", mx: ["mx1.example.org", "*.backup.example.org"], maxAge: 86400 } });
    await expectNew("mode");
    await setDomainSettings(edge, "example.org", { mtaSts: { mode: "testing", mx: ["mx1.example.org"], maxAge: 86400 } });
    await expectNew("mx");
    await setDomainSettings(edge, "example.org", { mtaSts: { mode: "testing", mx: ["mx1.example.org"], maxAge: 172800 } });
    const id = await expectNew("max_age");
    const text = (await policyFile("example.org")).text;

    const unrelatedSettings: DomainSettingsUpdate[] = [
      { plusDelimiter: "-" },
      { relayIps: ["192.0.2.1"] },
      { reportLocalPart: "dmarc" },
      { inbound: { spfFail: "reject" } },
      // The policy names its own mx patterns, so it does not follow mxHosts.
      { mxHosts: ["mx1.example.org", "mx2.example.org"] },
    ];
    for (const unrelated of unrelatedSettings) {
      await setDomainSettings(edge, "example.org", unrelated);
      assert.equal(await policyId("example.org"), id, JSON.stringify(unrelated));
    }
    assert.equal((await policyFile("example.org")).text, text);
    // The same policy set again is the same text, so the same id: senders re-fetch nothing.
    await setDomainSettings(edge, "example.org", { mtaSts: { mode: "testing", mx: ["mx1.example.org"], maxAge: 172800 } });
    assert.equal(await policyId("example.org"), id);
  });

  it("a policy without its own mx follows mxHosts: new MX hosts are a new policy text and id", async () => {
    const original = await policyId("follows.test");
    const updated = await setDomainSettings(edge, "follows.test", { mxHosts: ["mx-a.relay.test", "mx-b.relay.test"] });
    assert.deepEqual(updated.mtaSts?.mx, ["mx-a.relay.test", "mx-b.relay.test"]);
    assert.notEqual(updated.mtaSts?.policyId, original);
    assert.equal((await policyFile("follows.test")).text, "version: STSv1\r\nmode: testing\r\nmx: mx-a.relay.test\r\nmx: mx-b.relay.test\r\nmax_age: 604800\r\n");

    const back = await setDomainSettings(edge, "follows.test", { mxHosts: null });
    assert.deepEqual(back.settings.mxHosts, ["mail.follows.test"]);
    assert.equal(back.mtaSts?.policyId, original, "the same text gives the same id");
  });

  it("mtaSts: null withdraws the policy (404 at mta-sts.<domain>), and a new one publishes it again", async () => {
    assert.equal((await policyFile("follows.test")).status, 200);
    const none = await setDomainSettings(edge, "follows.test", { mtaSts: null });
    assert.equal(none.mtaSts, null);
    assert.equal((await policyFile("follows.test")).status, 404);

    const enforced = await setDomainSettings(edge, "follows.test", { mtaSts: { mode: "enforce" } });
    assert.deepEqual(enforced.mtaSts && { ...enforced.mtaSts, policyId: "…" }, { mode: "enforce", mx: ["mail.follows.test"], maxAge: 604800, policyId: "…" });
    assert.equal((await policyFile("follows.test")).text, "version: STSv1\r\nmode: enforce\r\nmx: mail.follows.test\r\nmax_age: 604800\r\n");
  });

  it("refuses an enforce policy, or MX hosts, that would leave an MX host outside the policy, changing nothing", async () => {
    const original = await edge.admin<DomainWithSettings>("GET", "/domains/follows.test");
    const cases: [unknown, RegExp][] = [
      [{ mtaSts: { mode: "enforce", mx: ["mx.elsewhere.test"] } }, /mtaSts\.mx: the MX host mail\.follows\.test matches no pattern/],
      [{ mxHosts: ["mail.follows.test", "b.mx.follows.test"], mtaSts: { mode: "enforce", mx: ["*.follows.test"] } }, /b\.mx\.follows\.test matches no pattern/],
    ];
    for (const [body, reason] of cases) {
      const r = await edge.admin("PATCH", "/domains/follows.test", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.error?.code, "bad_request");
      assert.match(r.error?.message ?? "", reason);
    }
    // Pinned to explicit patterns, the policy no longer follows: an MX host outside them is refused.
    await setDomainSettings(edge, "follows.test", { mtaSts: { mode: "enforce", mx: ["mail.follows.test"] } });
    const outside = await edge.admin("PATCH", "/domains/follows.test", { mxHosts: ["mail.follows.test", "mx2.other.test"] });
    assert.equal(outside.status, 400);
    assert.match(outside.error?.message ?? "", /mx2\.other\.test matches no pattern/);
    const unchanged = await edge.admin<DomainWithSettings>("GET", "/domains/follows.test");
    assert.deepEqual(unchanged.body.settings.mxHosts, original.body.settings.mxHosts);
  });
});
