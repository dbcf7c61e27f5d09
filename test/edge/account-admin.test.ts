/**
 * Account administration against a real edge: accounts named by id or address, the list with
 * limit and usage, a new password (the old one stops working at once at the edge), and removal —
 * the account, its mailboxes, messages, their search text, subscriptions and queued mail gone in
 * one go, aliases and the catch-all no longer naming it, other accounts untouched. The last part
 * reads the local D1 after the edge stopped, so "nothing left behind" is checked row by row.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Account, Alias, DomainWithSettings, OrphanBlobList, QueuedJobList } from "../../common/contract.ts";
import { startEdge, type RunningEdge } from "../../local/edge.ts";
import {
  ADMIN_TOKEN,
  RELAY_KEY,
  createAlias,
  createAccounts,
  deliver,
  sampleMessage,
  searchFields,
  setDomainSettings,
  sha256Hex,
  startTestEdge,
  submitMessage,
  withStoppedEdgeD1,
  type TestEdge,
} from "../support/edge-api.ts";

const PASSWORD = "correct horse battery";

type Listed = Required<Pick<Account, "id" | "address" | "domainId" | "usedBytes">> & { quotaBytes: number | null };

describe("account administration", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  const login = (username: string, password: string) => edge.relay("POST", "/auth", { username, password });
  const listed = async () => {
    const r = await edge.admin<{ accounts: Listed[] }>("GET", "/accounts");
    assert.equal(r.status, 200);
    return new Map(r.body.accounts.map((a) => [a.address, a]));
  };

  before(async () => {
    edge = await startTestEdge();
    [alice, bob] = (await createAccounts(edge, ["alice@example.org", "bob@example.org"])) as [Account, Account];
  });
  after(async () => {
    await edge?.stop();
  });

  it("keeps the report address of a domain from becoming an account or an alias", async () => {
    const account = await edge.admin<{ error: { message: string } }>("POST", "/accounts", { address: "reports@example.org", password: "correct horse" });
    assert.equal(account.status, 409);
    assert.match(account.body.error.message, /reports/);
    const alias = await edge.admin<{ error: { message: string } }>("POST", "/aliases", { address: "Reports@example.org", targets: ["alice@example.org"] });
    assert.equal(alias.status, 409);
    assert.ok(!(await listed()).has("reports@example.org"));
  });

  it("lists every account with its limit and the octets its messages use", async () => {
    const one = sampleMessage("usage-1");
    const two = sampleMessage("usage-22");
    assert.equal((await deliver(edge, one, ["alice@example.org"], "usage-1-key-0000")).reply.status, 200);
    assert.equal((await deliver(edge, two, ["alice@example.org"], "usage-2-key-0000")).reply.status, 200);
    assert.equal((await edge.admin("PUT", `/accounts/${bob.id}/quota`, { storageBytes: 5000 })).status, 204);

    const accounts = await listed();
    assert.deepEqual([...accounts.keys()], ["alice@example.org", "bob@example.org"]);
    assert.deepEqual(accounts.get("alice@example.org"), {
      id: alice.id,
      address: "alice@example.org",
      domainId: alice.domainId,
      quotaBytes: null,
      usedBytes: one.byteLength + two.byteLength,
    });
    assert.deepEqual(accounts.get("bob@example.org"), { id: bob.id, address: "bob@example.org", domainId: bob.domainId, quotaBytes: 5000, usedBytes: 0 });
  });

  it("sets the quota of an account named by its address, in any case", async () => {
    assert.equal((await edge.admin("PUT", `/accounts/${encodeURIComponent("Alice@Example.org")}/quota`, { storageBytes: 100_000 })).status, 204);
    assert.equal((await listed()).get("alice@example.org")?.quotaBytes, 100_000);
    assert.equal((await edge.admin("PUT", "/accounts/alice@example.org/quota", { storageBytes: null })).status, 204);
    assert.equal((await listed()).get("alice@example.org")?.quotaBytes, null);
  });

  it("changes a password: the new one logs in, the old one no longer does", async () => {
    assert.equal((await login("alice@example.org", PASSWORD)).status, 200);
    assert.equal((await edge.admin("PUT", `/accounts/${alice.id}/password`, { password: "a whole new secret" })).status, 204);
    const old = await login("alice@example.org", PASSWORD);
    assert.equal(old.status, 401);
    assert.equal(old.error?.code, "auth_failed");
    const fresh = await login("alice@example.org", "a whole new secret");
    assert.equal(fresh.status, 200);
    assert.deepEqual(fresh.body, { accountId: alice.id, address: "alice@example.org" });

    assert.equal((await edge.admin("PUT", `/accounts/${encodeURIComponent("bob@example.org")}/password`, { password: "bob's second secret" })).status, 204);
    assert.equal((await login("bob@example.org", "bob's second secret")).status, 200);
    assert.equal((await login("alice@example.org", "bob's second secret")).status, 401, "only the named account changed");
  });

  it("refuses a password too short, a misspelt field and a body that is no JSON with 400, changing nothing", async () => {
    for (const body of [{ password: "short" }, { password: "long enough at last", extra: 1 }, { pasword: "long enough at last" }, "{nope"]) {
      const r = await edge.admin("PUT", `/accounts/${bob.id}/password`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.error?.code, "bad_request");
      assert.ok((r.error?.message ?? "").length > 0);
    }
    assert.equal((await login("bob@example.org", "bob's second secret")).status, 200);
  });

  it("answers 404 not_found for an id, an address or a word that names no account, on every route", async () => {
    for (const ref of ["999999", encodeURIComponent("nobody@example.org"), "nobody", "0", "-1"]) {
      const cases = [
        await edge.admin("PUT", `/accounts/${ref}/password`, { password: "long enough at last" }),
        await edge.admin("PUT", `/accounts/${ref}/quota`, { storageBytes: 1 }),
        await edge.admin("DELETE", `/accounts/${ref}`),
      ];
      for (const r of cases) {
        assert.equal(r.status, 404, ref);
        assert.equal(r.error?.code, "not_found");
      }
    }
  });

  it("requires the admin token", async () => {
    assert.equal((await edge.admin("PUT", `/accounts/${bob.id}/password`, { password: "long enough at last" }, null)).status, 401);
    assert.equal((await edge.admin("DELETE", `/accounts/${bob.id}`, undefined, RELAY_KEY)).status, 401);
    assert.equal((await login("bob@example.org", "bob's second secret")).status, 200);
  });
});

describe("removing an account", () => {
  let dataDir: string;
  let running: RunningEdge | undefined;
  let edge: TestEdge;
  let carol: Account;
  let dave: Account;

  /** A TestEdge over an edge that keeps its D1 in `dataDir`, so the rows can be read after it stops. */
  const call = async <T>(prefix: string, token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${running!.url}${prefix}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as T & { error?: { code: string; message: string; temporary: boolean } }) : (undefined as T);
    return { status: res.status, headers: res.headers, body: parsed, error: (parsed as { error?: never } | undefined)?.error };
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edgemail-accounts-"));
    running = await startEdge({ persistDir: dataDir, adminToken: ADMIN_TOKEN, relayKey: RELAY_KEY });
    edge = {
      url: running.url,
      stop: () => running!.stop(),
      admin: (method, path, body) => call("/admin/v1", ADMIN_TOKEN, method, path, body),
      relay: (method, path, body) => call("/relay/v1", RELAY_KEY, method, path, body),
      relayRaw: (method, path, init = {}) =>
        fetch(`${running!.url}/relay/v1${path}`, { method, headers: { authorization: `Bearer ${RELAY_KEY}`, ...init.headers }, body: init.body }),
    } as TestEdge;
    [carol, dave] = (await createAccounts(edge, ["carol@example.org", "dave@example.org"])) as [Account, Account];
  });
  after(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("removes the account and all that was only its, and nothing of anyone else", async () => {
    // Mail for both (with search text), a message carol submitted to the outside (queued), a
    // mailbox and subscription of her own, aliases naming her, and her as the domain's catch-all.
    const body = searchFields({ body: "the quarterly figures" });
    assert.equal((await deliver(edge, sampleMessage("both-1"), ["carol@example.org", "dave@example.org"], "both-1-key-0000", body)).reply.status, 200);
    assert.equal((await deliver(edge, sampleMessage("carol-2"), ["carol@example.org"], "carol-2-key-0000", body)).reply.status, 200);
    assert.equal((await edge.relay("POST", `/accounts/${carol.id}/mailboxes`, { name: "Projects" })).status, 200);
    const sent = await submitMessage(edge, carol.id, sampleMessage("out-1"), ["someone@remote.test"], "out-1-key-0000", "carol@example.org");
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const daveSent = await submitMessage(edge, dave.id, sampleMessage("out-2"), ["other@remote.test"], "out-2-key-0000", "dave@example.org");
    assert.equal(daveSent.status, 200);
    await createAlias(edge, "team@example.org", ["carol@example.org", "dave@example.org", "partner@remote.test"]);
    await createAlias(edge, "solo@example.org", ["carol@example.org"]);
    await createAlias(edge, "others@example.org", ["dave@example.org"]);
    await setDomainSettings(edge, "example.org", { catchAll: "carol@example.org" });
    assert.equal((await edge.admin<QueuedJobList>("GET", "/queue?state=all")).body.jobs.length, 2);

    const removed = await edge.admin("DELETE", `/accounts/${encodeURIComponent("carol@example.org")}`);
    assert.equal(removed.status, 204);

    const accounts = (await edge.admin<{ accounts: Account[] }>("GET", "/accounts")).body.accounts;
    assert.deepEqual(accounts.map((a) => a.address), ["dave@example.org"]);
    assert.equal((await edge.relay("POST", "/auth", { username: "carol@example.org", password: PASSWORD })).status, 401);
    assert.equal((await edge.relay("POST", "/auth", { username: "dave@example.org", password: PASSWORD })).status, 200);

    const aliases = (await edge.admin<{ aliases: Alias[] }>("GET", "/aliases")).body.aliases;
    assert.deepEqual(
      aliases.map((a) => [a.address, a.targets]),
      [
        ["others@example.org", ["dave@example.org"]],
        ["team@example.org", ["dave@example.org", "partner@remote.test"]],
      ],
    );
    const domain = (await edge.admin<DomainWithSettings>("GET", "/domains/example.org")).body;
    assert.equal(domain.settings.catchAll, null);
    // Without a catch-all, her address is unknown again rather than delivered to nobody.
    const check = await edge.relay<{ result: string }>("POST", "/recipients/check", { address: "carol@example.org" });
    assert.equal(check.body.result, "unknown_user");

    const queue = (await edge.admin<QueuedJobList>("GET", "/queue?state=all")).body.jobs;
    assert.deepEqual(queue.map((j) => j.account), ["dave@example.org"]);

    // Blobs stay in R2; those only she referenced are now orphans for the collector, the shared one is not.
    const orphans = (await edge.admin<OrphanBlobList>("GET", "/blobs/orphans")).body.orphans.map((o) => o.key);
    assert.deepEqual(
      orphans.sort(),
      [`blobs/${sha256Hex(sampleMessage("carol-2"))}`, `blobs/${sha256Hex(sampleMessage("out-1"))}`].sort(),
    );

    assert.equal((await edge.admin("DELETE", `/accounts/${carol.id}`)).status, 404, "already gone");
  });

  it("leaves no row of hers in D1, and dave's untouched", async () => {
    await running!.stop();
    running = undefined;
    await withStoppedEdgeD1(dataDir, async (db) => {
      const count = async (query: string, ...params: unknown[]) =>
        ((await db.prepare(query).bind(...params).first<{ n: number }>())?.n ?? -1);
      for (const [table, column] of [
        ["accounts", "id"],
        ["mailboxes", "account_id"],
        ["messages", "account_id"],
        ["subscriptions", "account_id"],
        ["outbound_submissions", "account_id"],
      ] as const) {
        assert.equal(await count(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`, carol.id), 0, table);
      }
      assert.equal(await count("SELECT count(*) AS n FROM expunged WHERE mailbox_id NOT IN (SELECT id FROM mailboxes)"), 0, "expunged");
      assert.equal(await count("SELECT count(*) AS n FROM outbound_jobs WHERE submission_id NOT IN (SELECT id FROM outbound_submissions)"), 0, "jobs");
      assert.equal(
        await count("SELECT count(*) AS n FROM outbound_recipients WHERE submission_id NOT IN (SELECT id FROM outbound_submissions)"),
        0,
        "recipients",
      );
      // The search text went with her messages (trigger of migration 0002); dave's copy keeps his.
      assert.equal(await count("SELECT count(*) AS n FROM messages_fts WHERE rowid NOT IN (SELECT id FROM messages)"), 0, "fts");
      assert.equal(await count("SELECT count(*) AS n FROM messages_fts"), 1, "dave's text");
      assert.equal(await count("SELECT count(*) AS n FROM messages WHERE account_id = ?", dave.id), 1);
      assert.equal(await count("SELECT count(*) AS n FROM mailboxes WHERE account_id = ?", dave.id), 5);
      assert.equal(await count("SELECT count(*) AS n FROM outbound_jobs"), 1);
    });
  });
});
