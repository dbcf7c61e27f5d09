/**
 * The MX's authentication results at the edge, against a real worker: a quarantine verdict files
 * the copies in Junk instead of INBOX; the results are stored with the delivery and returned by
 * the admin's delivery routes, which filter by domain, verdict and DMARC result and refuse bad
 * queries with a reason.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, StoredDelivery } from "../../common/contract.ts";
import {
  authenticationResults,
  createAccounts,
  createAlias,
  deliverFrom,
  mailboxUids,
  sampleMessage,
  startTestEdge,
  type TestEdge,
} from "../support/edge-api.ts";

describe("inbound authentication results", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  const ids: Record<string, string> = {};
  const list = (query: string) => edge.admin<{ deliveries: StoredDelivery[] }>("GET", `/deliveries${query}`);

  before(async () => {
    edge = await startTestEdge();
    [alice, bob] = (await createAccounts(edge, ["alice@example.org", "bob@example.org"])) as [Account, Account];
    [carol] = (await createAccounts(edge, ["carol@example.net"])) as [Account];
    await createAlias(edge, "both@example.org", ["alice@example.org", "bob@example.org", "outside@remote.test"]);
  });
  after(async () => {
    await edge?.stop();
  });

  it("files a quarantined message in each recipient's Junk, not in INBOX", async () => {
    const before = { aliceInbox: await mailboxUids(edge, alice.id, "INBOX"), bobInbox: await mailboxUids(edge, bob.id, "INBOX") };
    const auth = authenticationResults({ dmarc: "fail", dmarcPolicy: "quarantine", spf: "fail", verdict: "quarantine", reasons: ["dmarc", "spf"] });
    const r = await deliverFrom(edge, sampleMessage("quarantined"), ["both@example.org"], "inbound-quarantine-1", { authentication: auth });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    ids.quarantined = r.body.deliveryId;
    assert.deepEqual(r.body.stored.map((s) => s.accountId), [alice.id, bob.id]);

    for (const [account, inbox] of [
      [alice, before.aliceInbox],
      [bob, before.bobInbox],
    ] as const) {
      const junk = await mailboxUids(edge, account.id, "Junk");
      const copy = r.body.stored.find((s) => s.accountId === account.id)!;
      assert.ok(junk.includes(copy.uid), `${account.address}: the copy is in Junk`);
      assert.deepEqual(await mailboxUids(edge, account.id, "INBOX"), inbox, `${account.address}: INBOX unchanged`);
    }
  });

  it("files a quarantined message in INBOX for an account that deleted its Junk", async () => {
    const deleted = await edge.relay("POST", `/accounts/${carol.id}/mailboxes/delete`, { name: "Junk" });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    const r = await deliverFrom(edge, sampleMessage("no-junk"), ["carol@example.net"], "inbound-no-junk-1", {
      authentication: authenticationResults({ verdict: "quarantine", reasons: ["spf"] }),
    });
    assert.equal(r.status, 200);
    ids.noJunk = r.body.deliveryId;
    assert.ok((await mailboxUids(edge, carol.id, "INBOX")).includes(r.body.stored[0]!.uid));
  });

  it("files an accepted message in INBOX", async () => {
    const before = await mailboxUids(edge, alice.id, "Junk");
    const r = await deliverFrom(edge, sampleMessage("accepted"), ["alice@example.org"], "inbound-accept-1", {
      authentication: authenticationResults({ dmarc: "pass" }),
      mailFrom: "news@list.test",
    });
    assert.equal(r.status, 200);
    ids.accepted = r.body.deliveryId;
    assert.ok((await mailboxUids(edge, alice.id, "INBOX")).includes(r.body.stored[0]!.uid));
    assert.deepEqual(await mailboxUids(edge, alice.id, "Junk"), before);
  });

  it("stores a delivery without results (not from the MX) with authentication null, in INBOX", async () => {
    const r = await deliverFrom(edge, sampleMessage("unauthenticated"), ["carol@example.net"], "inbound-none-1");
    assert.equal(r.status, 200);
    ids.none = r.body.deliveryId;
    assert.ok((await mailboxUids(edge, carol.id, "INBOX")).includes(r.body.stored[0]!.uid));
  });

  it("returns the stored results, envelope and copies by delivery id", async () => {
    const r = await edge.admin<StoredDelivery>("GET", `/deliveries/${ids.quarantined}`);
    assert.equal(r.status, 200);
    const { createdAt, ...rest } = r.body;
    assert.ok(Math.abs(createdAt - Date.now()) < 60_000);
    assert.deepEqual(rest, {
      deliveryId: ids.quarantined,
      mailFrom: "sender@remote.test",
      recipients: ["both@example.org"],
      authentication: authenticationResults({ dmarc: "fail", dmarcPolicy: "quarantine", spf: "fail", verdict: "quarantine", reasons: ["dmarc", "spf"] }),
      copies: [
        { address: "alice@example.org", mailbox: "Junk" },
        { address: "bob@example.org", mailbox: "Junk" },
      ],
      forwarded: ["outside@remote.test"],
    });
    const none = await edge.admin<StoredDelivery>("GET", `/deliveries/${ids.none}`);
    assert.equal(none.body.authentication, null);
    assert.deepEqual(none.body.copies, [{ address: "carol@example.net", mailbox: "INBOX" }]);
    const unknown = await edge.admin("GET", "/deliveries/00000000-0000-0000-0000-000000000000");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error?.code, "not_found");
  });

  it("lists deliveries newest first, filtered by domain, verdict and DMARC result", async () => {
    const idsOf = async (query: string) => {
      const r = await list(query);
      assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
      return r.body.deliveries.map((d) => d.deliveryId);
    };
    assert.deepEqual(await idsOf(""), [ids.none, ids.accepted, ids.noJunk, ids.quarantined]);
    assert.deepEqual(await idsOf("?verdict=quarantine"), [ids.noJunk, ids.quarantined]);
    assert.deepEqual(await idsOf("?verdict=accept"), [ids.accepted]);
    assert.deepEqual(await idsOf("?dmarc=fail"), [ids.quarantined]);
    assert.deepEqual(await idsOf("?dmarc=PASS"), [ids.accepted, ids.noJunk]);
    assert.deepEqual(await idsOf("?domain=example.org"), [ids.accepted, ids.quarantined]);
    assert.deepEqual(await idsOf("?domain=example.net"), [ids.none, ids.noJunk]);
    assert.deepEqual(await idsOf("?domain=example.org&verdict=accept&dmarc=pass"), [ids.accepted]);
    assert.deepEqual(await idsOf("?domain=example.net&verdict=accept"), []);
    assert.deepEqual(await idsOf("?domain=&verdict="), [ids.none, ids.accepted, ids.noJunk, ids.quarantined]);
  });

  it("refuses bad filters with 400 and a reason", async () => {
    const cases: [string, RegExp][] = [
      ["?verdict=maybe", /verdict/],
      ["?verdict=reject", /verdict/],
      ["?dmarc=p%40ss", /dmarc: not a result keyword/],
      ["?domain=not%20a%20domain", /domain: not a domain name/],
      ["?limit=10", /limit/],
    ];
    for (const [query, reason] of cases) {
      const r = await list(query);
      assert.equal(r.status, 400, query);
      assert.equal(r.error?.code, "bad_request");
      assert.match(r.error?.message ?? "", reason);
    }
  });

  it("a replayed delivery adds no record", async () => {
    const raw = sampleMessage("replayed");
    const first = await deliverFrom(edge, raw, ["alice@example.org"], "inbound-replay-1", { authentication: authenticationResults() });
    const again = await deliverFrom(edge, raw, ["alice@example.org"], "inbound-replay-1", {
      authentication: authenticationResults({ verdict: "quarantine", reasons: ["dkim"] }),
    });
    assert.deepEqual(again.body, { ...first.body, duplicate: true });
    const all = (await list("")).body.deliveries;
    assert.equal(all.filter((d) => d.deliveryId === first.body.deliveryId).length, 1);
    assert.equal(all.find((d) => d.deliveryId === first.body.deliveryId)!.authentication?.verdict, "accept");
  });
});
