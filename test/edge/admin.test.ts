/**
 * The admin API and the bearer checks of both APIs, against a real edge (workerd, local D1/R2).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, DkimPublicKeys, Domain } from "../../common/contract.ts";
import { getWithHost, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("admin API", () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge();
  });
  after(async () => {
    await edge?.stop();
  });

  it("creates a domain with an MTA-STS policy, lower-cased, with a policy id digested from the policy", async () => {
    const r = await edge.admin<Domain>("POST", "/domains", { name: "Example.ORG", mtaSts: { mode: "enforce", mx: ["mx1.example.org", "*.example.org"] } });
    assert.equal(r.status, 201);
    assert.equal(r.body.name, "example.org");
    assert.equal(r.body.mtaSts?.mode, "enforce");
    assert.deepEqual(r.body.mtaSts?.mx, ["mx1.example.org", "*.example.org"]);
    assert.equal(r.body.mtaSts?.maxAge, 604800);
    // RFC 8461 §3.1: 1–32 alphanumerics.
    assert.match(r.body.mtaSts?.policyId ?? "", /^[0-9a-f]{16}$/);
    const listed = await edge.admin<{ domains: Domain[] }>("GET", "/domains");
    assert.equal(listed.body.domains.find((d) => d.name === "example.org")?.mtaSts?.policyId, r.body.mtaSts?.policyId);
  });

  it("creates a domain without a policy when asked with mtaSts: null", async () => {
    const r = await edge.admin<Domain>("POST", "/domains", { name: "plain.test", mtaSts: null });
    assert.equal(r.status, 201);
    assert.equal(r.body.mtaSts, null);
  });

  it("gives a domain created without mtaSts a testing policy that follows its MX hosts", async () => {
    const r = await edge.admin<Domain>("POST", "/domains", { name: "default-policy.test", mxHosts: ["MX1.Relay.test", "mx2.relay.test"] });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.mtaSts && { ...r.body.mtaSts, policyId: "…" }, { mode: "testing", mx: ["mx1.relay.test", "mx2.relay.test"], maxAge: 604800, policyId: "…" });
    const plain = await edge.admin<Domain>("POST", "/domains", { name: "default-mx.test" });
    assert.deepEqual(plain.body.mtaSts?.mx, ["mail.default-mx.test"]);
  });

  it("refuses an enforce policy that leaves out one of the MX hosts, and duplicate MX hosts, with 400 and a reason", async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "strict.test", mtaSts: { mode: "enforce", mx: ["mx.other.test"] } }, /mtaSts\.mx: the MX host mail\.strict\.test matches no pattern/],
      // RFC 8461 §4.1: a wildcard stands for one label only.
      [{ name: "strict.test", mxHosts: ["a.b.strict.test"], mtaSts: { mode: "enforce", mx: ["*.strict.test"] } }, /a\.b\.strict\.test matches no pattern/],
      [{ name: "strict.test", mxHosts: ["mx.strict.test", "MX.strict.test"] }, /mxHosts: mx\.strict\.test is listed twice/],
      [{ name: "strict.test", mxHosts: ["not a host"] }, /mxHosts\.0: not a host name/],
      [{ name: "strict.test", mtaSts: { maxAge: 60 } }, /mtaSts\.maxAge/],
    ];
    for (const [body, reason] of cases) {
      const r = await edge.admin("POST", "/domains", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.error?.code, "bad_request");
      assert.match(r.error?.message ?? "", reason);
    }
    assert.equal((await edge.admin("GET", "/domains/strict.test")).status, 404);
    // A testing policy only reports, so it may name other hosts.
    const testing = await edge.admin<Domain>("POST", "/domains", { name: "strict.test", mtaSts: { mode: "testing", mx: ["mx.other.test"] } });
    assert.equal(testing.status, 201);
    assert.equal((await edge.admin("DELETE", "/domains/strict.test")).status, 204);
  });

  it("refuses an existing domain with 409 conflict", async () => {
    const r = await edge.admin("POST", "/domains", { name: "example.org" });
    assert.equal(r.status, 409);
    assert.equal(r.error?.code, "conflict");
  });

  it("refuses an invalid domain name with 400 bad_request naming the field", async () => {
    const r = await edge.admin("POST", "/domains", { name: "not a domain" });
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
    assert.match(r.error?.message ?? "", /name/);
  });

  it("refuses a body that is not JSON with 400 bad_request", async () => {
    const r = await edge.admin("POST", "/domains", "{nope");
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
    assert.match(r.error?.message ?? "", /JSON/);
  });

  it("lists domains", async () => {
    const r = await edge.admin<{ domains: Domain[] }>("GET", "/domains");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.domains.map((d) => d.name), ["default-mx.test", "default-policy.test", "example.org", "plain.test"]);
  });

  it("creates an account with INBOX, Sent, Drafts, Junk and Trash and their roles", async () => {
    const r = await edge.admin<Account>("POST", "/accounts", { address: "Alice@Example.org", password: "correct horse" });
    assert.equal(r.status, 201);
    assert.equal(r.body.address, "alice@example.org");
    assert.deepEqual(r.body.mailboxes, [
      { name: "INBOX", role: "inbox" },
      { name: "Sent", role: "sent" },
      { name: "Drafts", role: "drafts" },
      { name: "Junk", role: "junk" },
      { name: "Trash", role: "trash" },
    ]);
    const list = await edge.relay<{ mailboxes: { name: string; role: string | null; uidnext: number; uidvalidity: number }[] }>(
      "GET",
      `/accounts/${r.body.id}/mailboxes`,
    );
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.mailboxes.map((m) => [m.name, m.role, m.uidnext]),
      [
        ["INBOX", "inbox", 1],
        ["Sent", "sent", 1],
        ["Drafts", "drafts", 1],
        ["Junk", "junk", 1],
        ["Trash", "trash", 1],
      ],
    );
    const now = Math.floor(Date.now() / 1000);
    for (const m of list.body.mailboxes) assert.ok(Math.abs(m.uidvalidity - now) < 600);
  });

  it("refuses an existing account with 409 conflict", async () => {
    const r = await edge.admin("POST", "/accounts", { address: "alice@example.org", password: "another one" });
    assert.equal(r.status, 409);
    assert.equal(r.error?.code, "conflict");
  });

  it("refuses an account in a domain that is not ours with 422 not_found", async () => {
    const r = await edge.admin("POST", "/accounts", { address: "bob@elsewhere.test", password: "correct horse" });
    assert.equal(r.status, 422);
    assert.equal(r.error?.code, "not_found");
  });

  it("refuses a short password with 400 bad_request", async () => {
    const r = await edge.admin("POST", "/accounts", { address: "carol@example.org", password: "short" });
    assert.equal(r.status, 400);
    assert.match(r.error?.message ?? "", /password/);
  });

  it("lists accounts", async () => {
    const r = await edge.admin<{ accounts: Account[] }>("GET", "/accounts");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.accounts.map((a) => a.address), ["alice@example.org"]);
  });

  it("answers 401 unauthorized without the admin token, with a wrong one, and with the relay key", async () => {
    for (const token of [null, "wrong", "test-relay-key-0123456789"]) {
      const r = await edge.admin("GET", "/domains", undefined, token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.error?.code, "unauthorized");
    }
  });

  it("answers 401 unauthorized on the relay API without the relay key, with a wrong one, and with the admin token", async () => {
    for (const token of [null, "wrong", "test-admin-token-0123456789"]) {
      const r = await edge.relay("POST", "/recipients/check", { address: "alice@example.org" }, token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.error?.code, "unauthorized");
      assert.equal(r.error?.temporary, true);
    }
  });

  it("answers 401 for unknown paths under an API without a token, and 404 not_found with one", async () => {
    assert.equal((await edge.relay("GET", "/nowhere", undefined, null)).status, 401);
    const r = await edge.relay("GET", "/nowhere");
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "not_found");
  });

  it("answers 404 not_found JSON for anything else", async () => {
    const res = await fetch(`${edge.url}/nowhere`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not_found");
  });

  it("hides the fault injection endpoint unless the worker allows it", async () => {
    const r = await edge.admin("POST", "/faults", { point: "deliveries.afterBlobCheck" });
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "not_found");
  });

  describe("domain removal", () => {
    it("removes a domain nothing depends on, with its keys and policy, and lets the name be used again", async () => {
      assert.equal((await edge.admin("POST", "/domains", { name: "gone.test" })).status, 201);
      const keys = await edge.admin<DkimPublicKeys>("GET", "/domains/gone.test/dkim");
      assert.equal(keys.status, 200);
      assert.equal((await getWithHost(edge.url, "/.well-known/mta-sts.txt", "mta-sts.gone.test")).status, 200);

      const r = await edge.admin("DELETE", "/domains/Gone.Test");
      assert.equal(r.status, 204);
      assert.equal(r.body, undefined);
      for (const path of ["/domains/gone.test", "/domains/gone.test/dkim", "/domains/gone.test/dns"]) {
        assert.equal((await edge.admin("GET", path)).status, 404, path);
      }
      assert.equal((await getWithHost(edge.url, "/.well-known/mta-sts.txt", "mta-sts.gone.test")).status, 404);
      assert.ok(!(await edge.admin<{ domains: Domain[] }>("GET", "/domains")).body.domains.some((d) => d.name === "gone.test"));
      const again = await edge.admin("DELETE", "/domains/gone.test");
      assert.equal(again.status, 404);
      assert.equal(again.error?.code, "not_found");

      assert.equal((await edge.admin("POST", "/domains", { name: "gone.test" })).status, 201);
      const fresh = await edge.admin<DkimPublicKeys>("GET", "/domains/gone.test/dkim");
      assert.equal(fresh.body.keys.length, 2);
      for (const key of fresh.body.keys) assert.ok(!keys.body.keys.some((old) => old.dnsValue === key.dnsValue), "the old keys went with the domain");
    });

    it("refuses with 409 and names what is left while accounts, aliases or mirrors depend on it", async () => {
      assert.equal((await edge.admin("POST", "/domains", { name: "busy.test" })).status, 201);
      assert.equal((await edge.admin("POST", "/domains", { name: "mirror-of-busy.test" })).status, 201);
      assert.equal((await edge.admin("POST", "/accounts", { address: "ann@busy.test", password: "correct horse" })).status, 201);
      assert.equal((await edge.admin("POST", "/aliases", { address: "team@busy.test", targets: ["ann@busy.test"] })).status, 201);
      assert.equal((await edge.admin("POST", "/aliases", { address: "crew@busy.test", targets: ["ann@busy.test"] })).status, 201);
      assert.equal((await edge.admin("PATCH", "/domains/mirror-of-busy.test", { aliasOf: "busy.test" })).status, 200);

      const all = await edge.admin("DELETE", "/domains/busy.test");
      assert.equal(all.status, 409);
      assert.equal(all.error?.code, "conflict");
      assert.match(all.error?.message ?? "", /busy\.test still has 1 account and 2 aliases and mirror domains \(mirror-of-busy\.test\); remove them first/);

      assert.equal((await edge.admin("PATCH", "/domains/mirror-of-busy.test", { aliasOf: null })).status, 200);
      for (const alias of ["team@busy.test", "crew@busy.test"]) assert.equal((await edge.admin("DELETE", `/aliases/${alias}`)).status, 204);
      const account = await edge.admin("DELETE", "/domains/busy.test");
      assert.equal(account.status, 409);
      assert.match(account.error?.message ?? "", /still has 1 account; remove/);
      assert.equal((await edge.admin("GET", "/domains/busy.test")).status, 200, "nothing was removed");
      assert.equal((await edge.admin("GET", "/domains/busy.test/dkim")).status, 200);

      // A mirror itself depends on nothing: it goes, its target stays.
      assert.equal((await edge.admin("PATCH", "/domains/mirror-of-busy.test", { aliasOf: "busy.test" })).status, 200);
      assert.equal((await edge.admin("DELETE", "/domains/mirror-of-busy.test")).status, 204);
      assert.equal((await edge.admin("GET", "/domains/busy.test")).status, 200);
    });

    it("never leaves an account without its domain when the account is created during the removal", async () => {
      // Sent back to back in both orders: whichever lands first, the other must see it, and no
      // interleaving may end with the account stored and its domain gone.
      for (const [i, deleteFirst] of [true, false, true, false, true, false].entries()) {
        const name = `race${i}.test`;
        assert.equal((await edge.admin("POST", "/domains", { name, mtaSts: null })).status, 201);
        const remove = () => edge.admin("DELETE", `/domains/${name}`);
        const create = () => edge.admin("POST", "/accounts", { address: `ray@${name}`, password: "correct horse" });
        const [removed, created] = deleteFirst
          ? await Promise.all([remove(), create()])
          : await Promise.all([create(), remove()]).then(([c, r]) => [r, c] as const);
        const domainExists = (await edge.admin("GET", `/domains/${name}`)).status === 200;
        const accountExists = (await edge.admin<{ accounts: Account[] }>("GET", "/accounts")).body.accounts.some((a) => a.address === `ray@${name}`);
        assert.ok([204, 409].includes(removed.status), `DELETE ${removed.status}`);
        // 422: the domain was gone first, or went between createAccount's lookup and its insert.
        assert.ok([201, 422].includes(created.status), `POST account ${created.status} ${JSON.stringify(created.body)}`);
        assert.equal(domainExists, removed.status === 409);
        assert.equal(accountExists, created.status === 201);
        if (accountExists) assert.ok(domainExists, "an account outlived its domain");
      }
    });

    it("answers 401 without the admin token and removes nothing", async () => {
      const r = await edge.admin("DELETE", "/domains/example.org", undefined, null);
      assert.equal(r.status, 401);
      assert.equal((await edge.admin("GET", "/domains/example.org")).status, 200);
    });
  });
});
