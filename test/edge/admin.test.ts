/**
 * The admin API and the bearer checks of both APIs, against a real edge (workerd, local D1/R2).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, Domain } from "../../common/contract.ts";
import { startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("admin API", () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge();
  });
  after(async () => {
    await edge?.stop();
  });

  it("creates a domain with an MTA-STS policy, lower-cased, with a timestamp policy id", async () => {
    const r = await edge.admin<Domain>("POST", "/domains", { name: "Example.ORG", mtaSts: { mode: "enforce", mx: ["mx1.example.org", "*.example.org"] } });
    assert.equal(r.status, 201);
    assert.equal(r.body.name, "example.org");
    assert.equal(r.body.mtaSts?.mode, "enforce");
    assert.deepEqual(r.body.mtaSts?.mx, ["mx1.example.org", "*.example.org"]);
    assert.equal(r.body.mtaSts?.maxAge, 604800);
    assert.match(r.body.mtaSts?.policyId ?? "", /^\d{8}T\d{6}Z$/);
  });

  it("creates a domain without a policy", async () => {
    const r = await edge.admin<Domain>("POST", "/domains", { name: "plain.test" });
    assert.equal(r.status, 201);
    assert.equal(r.body.mtaSts, null);
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
    assert.deepEqual(r.body.domains.map((d) => d.name), ["example.org", "plain.test"]);
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
});
