/**
 * Password login (`POST /relay/v1/auth`) and the RCPT-time recipient check, against a real edge.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, AuthResult, RecipientCheckResult } from "../../common/contract.ts";
import { InboundPolicy } from "../../common/contract.ts";
import { startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("auth and recipient check", () => {
  let edge: TestEdge;
  let alice: Account;
  before(async () => {
    edge = await startTestEdge();
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 201);
    const r = await edge.admin<Account>("POST", "/accounts", { address: "alice@example.org", password: "correct horse" });
    assert.equal(r.status, 201);
    alice = r.body;
  });
  after(async () => {
    await edge?.stop();
  });

  it("logs in with the full address, case-insensitively", async () => {
    const r = await edge.relay<AuthResult>("POST", "/auth", { username: "Alice@EXAMPLE.org", password: "correct horse", remoteAddress: "192.0.2.1" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accountId: alice.id, address: "alice@example.org" });
  });

  it("refuses a wrong password and an unknown user with the same 401 auth_failed", async () => {
    const wrong = await edge.relay("POST", "/auth", { username: "alice@example.org", password: "Correct horse" });
    const unknown = await edge.relay("POST", "/auth", { username: "nobody@example.org", password: "correct horse" });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.deepEqual(wrong.error, {
      code: "auth_failed",
      temporary: false,
      smtp: { code: 535, enhanced: "5.7.8" },
      imap: "AUTHENTICATIONFAILED",
      message: "Authentication failed",
    });
  });

  it("refuses an empty password with 400 bad_request", async () => {
    const r = await edge.relay("POST", "/auth", { username: "alice@example.org", password: "" });
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, "bad_request");
  });

  it("finds a local recipient", async () => {
    const r = await edge.relay<RecipientCheckResult>("POST", "/recipients/check", { address: "ALICE@example.org" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { result: "local", accountId: alice.id, address: "alice@example.org", policy: InboundPolicy.parse({}) });
  });

  it("resolves plus-addressing to the account", async () => {
    const r = await edge.relay<RecipientCheckResult>("POST", "/recipients/check", { address: "alice+lists@example.org" });
    assert.deepEqual(r.body, { result: "local", accountId: alice.id, address: "alice@example.org", policy: InboundPolicy.parse({}) });
  });

  it("answers unknown_user for our domain without such an account", async () => {
    const r = await edge.relay<RecipientCheckResult>("POST", "/recipients/check", { address: "bob@example.org" });
    assert.deepEqual(r.body, { result: "unknown_user" });
  });

  it("answers foreign_domain for a domain that is not ours", async () => {
    const r = await edge.relay<RecipientCheckResult>("POST", "/recipients/check", { address: "alice@example.net" });
    assert.deepEqual(r.body, { result: "foreign_domain" });
  });

  it("refuses something that is not an address with 400 bad_request", async () => {
    const r = await edge.relay("POST", "/recipients/check", { address: "no-at-sign" });
    assert.equal(r.status, 400);
    assert.match(r.error?.message ?? "", /address/);
  });
});
