/**
 * DKIM keys against a real edge: every new domain has an RSA and an ed25519 key; the public key
 * the admin API publishes is the one of the private key the relay signs with; a domain whose keys
 * are missing (as for one created before keys existed) gets exactly one pair on first read.
 * Rotation: exactly one pair signs at any time, the new pair signs at once or after a delay, the
 * old pair stays published, selectors stay unique however often a domain rotates in a day,
 * concurrent rotations do not both win, and keys retired long enough ago leave DNS and D1.
 */
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RETIRED_KEY_PUBLISH_DAYS, type DkimPublicKey, type DkimPublicKeys, type DkimSigningKeys } from "../../common/contract.ts";
import { startEdge } from "../../local/edge.ts";
import { ADMIN_TOKEN, RELAY_KEY, startTestEdge, withStoppedEdgeD1, type EdgeD1, type TestEdge } from "../support/edge-api.ts";

const SAMPLE = Buffer.from("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel;\r\n");

/** The key a verifier builds from the TXT record's p= tag (RFC 6376 §3.6.1, RFC 8463 §4.2). */
function keyFromDns(dnsValue: string): { k: string; key: KeyObject } {
  const tags = new Map(dnsValue.split(";").map((t) => t.trim().split("=", 2) as [string, string]));
  assert.equal(tags.get("v"), "DKIM1");
  const k = tags.get("k")!;
  const p = Buffer.from(tags.get("p")!, "base64");
  if (k === "rsa") return { k, key: createPublicKey({ key: p, format: "der", type: "spki" }) };
  assert.equal(p.length, 32, "an ed25519 p= is the bare 32-byte key");
  return { k, key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: p.toString("base64url") }, format: "jwk" }) };
}

function spki(key: KeyObject): string {
  return key.export({ format: "der", type: "spki" }).toString("base64");
}

describe("DKIM keys", () => {
  let edge: TestEdge;
  const today = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  before(async () => {
    edge = await startTestEdge();
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });

  it("gives a new domain an RSA and an ed25519 key, named by the day of creation", async () => {
    const signing = await edge.relay<DkimSigningKeys>("GET", "/domains/example.org/dkim");
    assert.equal(signing.status, 200);
    assert.equal(signing.body.domain, "example.org");
    assert.deepEqual(
      signing.body.keys.map((k) => [k.selector, k.algorithm]),
      [
        [`s${today}r`, "rsa-sha256"],
        [`s${today}e`, "ed25519-sha256"],
      ],
    );
    for (const k of signing.body.keys) assert.match(k.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);

    const published = await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim");
    assert.equal(published.status, 200);
    assert.deepEqual(
      published.body.keys.map((k) => [k.selector, k.algorithm, k.dnsName]),
      [
        [`s${today}r`, "rsa-sha256", `s${today}r._domainkey.example.org`],
        [`s${today}e`, "ed25519-sha256", `s${today}e._domainkey.example.org`],
      ],
    );
    assert.match(published.body.keys[0]!.dnsValue, /^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/]+=*$/);
    assert.match(published.body.keys[1]!.dnsValue, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    for (const k of published.body.keys) assert.ok(Math.abs(k.createdAt - Date.now()) < 60_000);
  });

  it("publishes the public half of each private key the relay signs with", async () => {
    const signing = (await edge.relay<DkimSigningKeys>("GET", "/domains/example.org/dkim")).body;
    const published = (await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim")).body;
    for (const [i, algorithm] of (["rsa-sha256", "ed25519-sha256"] as const).entries()) {
      const privateKey = createPrivateKey(signing.keys[i]!.privateKeyPem);
      const dns = keyFromDns(published.keys[i]!.dnsValue);
      assert.equal(published.keys[i]!.algorithm, algorithm);
      assert.equal(spki(createPublicKey(privateKey)), spki(dns.key), `${algorithm}: published key matches`);
      if (algorithm === "rsa-sha256") {
        assert.equal(dns.k, "rsa");
        assert.equal(privateKey.asymmetricKeyType, "rsa");
        assert.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048);
        assert.equal(privateKey.asymmetricKeyDetails?.publicExponent, 65537n);
        const signature = sign("sha256", SAMPLE, privateKey);
        assert.ok(verify("sha256", SAMPLE, dns.key, signature));
        assert.ok(!verify("sha256", Buffer.concat([SAMPLE, Buffer.from("x")]), dns.key, signature));
      } else {
        assert.equal(dns.k, "ed25519");
        assert.equal(privateKey.asymmetricKeyType, "ed25519");
        const signature = sign(null, SAMPLE, privateKey);
        assert.ok(verify(null, SAMPLE, dns.key, signature));
        assert.ok(!verify(null, Buffer.concat([SAMPLE, Buffer.from("x")]), dns.key, signature));
      }
    }
  });

  it("answers the same keys on every read, whatever the case of the name", async () => {
    const first = await edge.relay<DkimSigningKeys>("GET", "/domains/example.org/dkim");
    const again = await edge.relay<DkimSigningKeys>("GET", "/domains/Example.ORG/dkim");
    assert.deepEqual(again.body, first.body);
  });

  it("gives every domain its own keys", async () => {
    assert.equal((await edge.admin("POST", "/domains", { name: "other.test" })).status, 201);
    const a = (await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim")).body.keys.map((k) => k.dnsValue);
    const b = (await edge.admin<DkimPublicKeys>("GET", "/domains/other.test/dkim")).body.keys.map((k) => k.dnsValue);
    assert.equal(b.length, 2);
    for (const v of b) assert.ok(!a.includes(v));
  });

  it("creates no keys when creating a domain that exists", async () => {
    const before = (await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim")).body;
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 409);
    assert.deepEqual((await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim")).body, before);
  });

  it("is 404 not_found as JSON for a domain we do not serve, on both APIs", async () => {
    for (const r of [await edge.relay("GET", "/domains/unknown.test/dkim"), await edge.admin("GET", "/domains/unknown.test/dkim")]) {
      assert.equal(r.status, 404);
      assert.match(r.headers.get("content-type") ?? "", /application\/json/);
      assert.equal(r.error?.code, "not_found");
    }
  });

  it("requires the relay key and the admin token, and does not take one for the other", async () => {
    const cases = [
      await edge.relay("GET", "/domains/example.org/dkim", undefined, null),
      await edge.relay("GET", "/domains/example.org/dkim", undefined, ADMIN_TOKEN),
      await edge.admin("GET", "/domains/example.org/dkim", undefined, null),
      await edge.admin("GET", "/domains/example.org/dkim", undefined, RELAY_KEY),
    ];
    for (const r of cases) {
      assert.equal(r.status, 401);
      assert.equal(r.error?.code, "unauthorized");
    }
  });
});

describe("DKIM keys of a domain that has none", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edgemail-dkim-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("are created on first read, once, even by concurrent first reads", async () => {
    const options = { persistDir: dataDir, adminToken: ADMIN_TOKEN, relayKey: RELAY_KEY };
    const first = await startEdge(options);
    try {
      const r = await fetch(`${first.url}/admin/v1/domains`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "legacy.test" }),
      });
      assert.equal(r.status, 201);
    } finally {
      await first.stop();
    }

    // The state of a domain created before migration 0005: no API removes keys, so go to D1.
    // Same worker name, database and persistence folder as local/edge.ts, so this is its D1.
    await withStoppedEdgeD1(dataDir, async (db) => {
      const deleted = await db.prepare("DELETE FROM dkim_keys").run();
      assert.equal(deleted.meta.changes, 2);
    });

    const second = await startEdge(options);
    try {
      const read = async (): Promise<DkimSigningKeys> => {
        const res = await fetch(`${second.url}/relay/v1/domains/legacy.test/dkim`, { headers: { authorization: `Bearer ${RELAY_KEY}` } });
        assert.equal(res.status, 200);
        return (await res.json()) as DkimSigningKeys;
      };
      const answers = await Promise.all([read(), read(), read(), read()]);
      assert.deepEqual(answers[0]!.keys.map((k) => k.algorithm), ["rsa-sha256", "ed25519-sha256"]);
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.deepEqual(await read(), answers[0]);
    } finally {
      await second.stop();
    }
  });
});

describe("DKIM key rotation", () => {
  let edge: TestEdge;
  const today = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const rotate = (domain: string, body: unknown) => edge.admin<DkimPublicKeys>("POST", `/domains/${domain}/dkim/rotate`, body);
  const signing = async (domain: string) => {
    const r = await edge.relay<DkimSigningKeys>("GET", `/domains/${domain}/dkim`);
    assert.equal(r.status, 200);
    return r.body.keys;
  };
  const published = async (domain: string) => {
    const r = await edge.admin<DkimPublicKeys>("GET", `/domains/${domain}/dkim`);
    assert.equal(r.status, 200);
    return r.body.keys;
  };
  const summary = (keys: DkimPublicKey[]) => keys.map((k) => [k.selector, k.status]);
  /** The private key's public half, as DNS publishes it: ties a signing key to its published record. */
  const publicOf = (pem: string, algorithm: string) =>
    algorithm === "rsa-sha256"
      ? createPublicKey(createPrivateKey(pem)).export({ format: "der", type: "spki" }).toString("base64")
      : Buffer.from(createPublicKey(createPrivateKey(pem)).export({ format: "jwk" }).x!, "base64url").toString("base64");

  before(async () => {
    edge = await startTestEdge();
    for (const name of ["now.test", "later.test", "race.test", "bad.test"]) {
      assert.equal((await edge.admin("POST", "/domains", { name })).status, 201);
    }
  });
  after(async () => {
    await edge?.stop();
  });

  it("without a delay, makes the new pair sign at once; the old pair is retired but still published", async () => {
    const before = await published("now.test");
    const started = Date.now();
    const r = await rotate("now.test", { delaySeconds: 0 });
    assert.equal(r.status, 200);
    assert.equal(r.body.domain, "now.test");
    assert.deepEqual(summary(r.body.keys), [
      [`s${today}r`, "retired"],
      [`s${today}-2r`, "active"],
      [`s${today}e`, "retired"],
      [`s${today}-2e`, "active"],
    ]);
    const [oldRsa, newRsa, oldEd, newEd] = r.body.keys as [DkimPublicKey, DkimPublicKey, DkimPublicKey, DkimPublicKey];
    // No gap, no overlap: the old keys stop exactly when the new ones start.
    assert.ok(newRsa.activeFrom >= started && newRsa.activeFrom <= Date.now());
    for (const old of [oldRsa, oldEd]) assert.equal(old.retiredAt, newRsa.activeFrom);
    for (const fresh of [newRsa, newEd]) {
      assert.equal(fresh.activeFrom, newRsa.activeFrom);
      assert.equal(fresh.retiredAt, null);
    }
    // The old records are unchanged, so DNS keeps verifying mail signed before the rotation.
    assert.deepEqual(
      [oldRsa, oldEd].map((k) => k.dnsValue),
      before.map((k) => k.dnsValue),
    );
    assert.deepEqual(summary(await published("now.test")), summary(r.body.keys));

    const keys = await signing("now.test");
    assert.deepEqual(
      keys.map((k) => [k.selector, k.algorithm]),
      [
        [`s${today}-2r`, "rsa-sha256"],
        [`s${today}-2e`, "ed25519-sha256"],
      ],
    );
    assert.equal(`p=${publicOf(keys[0]!.privateKeyPem, "rsa-sha256")}`, newRsa.dnsValue.split("; ")[2]);
    assert.equal(`p=${publicOf(keys[1]!.privateKeyPem, "ed25519-sha256")}`, newEd.dnsValue.split("; ")[2]);
  });

  it("with a delay, publishes the new pair as pending while the old pair keeps signing", async () => {
    const oldSigning = await signing("later.test");
    const started = Date.now();
    const r = await rotate("later.test", { delaySeconds: 3600 });
    assert.equal(r.status, 200);
    assert.deepEqual(summary(r.body.keys), [
      [`s${today}r`, "active"],
      [`s${today}-2r`, "pending"],
      [`s${today}e`, "active"],
      [`s${today}-2e`, "pending"],
    ]);
    const start = r.body.keys[1]!.activeFrom;
    assert.ok(start >= started + 3_600_000 && start <= Date.now() + 3_600_000);
    assert.deepEqual(
      r.body.keys.map((k) => k.retiredAt),
      [start, null, start, null],
    );
    assert.deepEqual(await signing("later.test"), oldSigning);
  });

  it("lets a later rotation supersede a pending pair, which never signs: one pair signs, none is left pending", async () => {
    const r = await rotate("later.test", {});
    assert.equal(r.status, 200, "delaySeconds defaults to 0");
    assert.deepEqual(summary(r.body.keys), [
      [`s${today}r`, "retired"],
      [`s${today}-2r`, "retired"],
      [`s${today}-3r`, "active"],
      [`s${today}e`, "retired"],
      [`s${today}-2e`, "retired"],
      [`s${today}-3e`, "active"],
    ]);
    const start = r.body.keys[2]!.activeFrom;
    // The first pair signed until now; the second was retired before its start, so it never signed.
    assert.deepEqual(
      r.body.keys.map((k) => k.retiredAt),
      [start, start, null, start, start, null],
    );
    assert.ok(r.body.keys[1]!.activeFrom > start);
    assert.deepEqual(
      (await signing("later.test")).map((k) => k.selector),
      [`s${today}-3r`, `s${today}-3e`],
    );
    const selectors = r.body.keys.map((k) => k.selector);
    assert.equal(new Set(selectors).size, selectors.length, "selectors are unique within the domain");
  });

  it("never lets concurrent rotations leave two pending pairs: one that lost the race is 409 conflict and changes nothing", async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => rotate("race.test", { delaySeconds: 600 })));
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length >= 1, true, JSON.stringify(statuses));
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.status, 409);
      assert.equal(a.error?.code, "conflict");
    }
    // Serialised or not, the outcome keeps the rule: one pair signs, at most one pair is pending.
    const keys = await published("race.test");
    const count = (status: string) => keys.filter((k) => k.status === status).length;
    assert.equal(count("active"), 2);
    assert.equal(count("pending"), 2);
    assert.equal(keys.length, 2 + 2 * statuses.filter((s) => s === 200).length);
    assert.ok(statuses.includes(409), `expected the concurrent rotations to collide: ${JSON.stringify(statuses)}`);
  });

  it("refuses a negative or too long delay, an unknown field and a body that is no JSON with 400; an unknown domain is 404", async () => {
    const before = await published("bad.test");
    for (const body of [{ delaySeconds: -1 }, { delaySeconds: 31 * 86400 }, { delaySeconds: 1.5 }, { delay: 60 }, { delaySeconds: 0, extra: true }, "{nope"]) {
      const r = await rotate("bad.test", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.error?.code, "bad_request");
    }
    assert.deepEqual(await published("bad.test"), before);
    const unknown = await rotate("unknown.test", { delaySeconds: 0 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error?.code, "not_found");
  });
});

describe("DKIM keys retired long ago", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edgemail-dkim-retired-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Runs `fn` against this edge's D1 (the edge must be stopped). */
  const withD1 = <T>(fn: (db: EdgeD1) => Promise<T>): Promise<T> => withStoppedEdgeD1(dataDir, fn);

  it(`leave DNS ${RETIRED_KEY_PUBLISH_DAYS} days after they stop signing, and D1 at the next rotation`, async () => {
    const options = { persistDir: dataDir, adminToken: ADMIN_TOKEN, relayKey: RELAY_KEY };
    const admin = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status}`);
      return (await res.json()) as DkimPublicKeys;
    };
    let edge = await startEdge(options);
    try {
      await admin(edge.url, "POST", "/domains", { name: "aged.test" });
      assert.equal((await admin(edge.url, "POST", "/domains/aged.test/dkim/rotate", { delaySeconds: 0 })).keys.length, 4);
      assert.equal((await admin(edge.url, "POST", "/domains/aged.test/dkim/rotate", { delaySeconds: 0 })).keys.length, 6);
    } finally {
      await edge.stop();
    }

    // No API moves the DKIM clock: age the retirements in D1 instead. The first pair stopped
    // signing a day more than the publishing period ago, the second a day less.
    const day = 86_400_000;
    const now = Date.now();
    await withD1(async (db) => {
      const rows = (await db.prepare("SELECT id, selector FROM dkim_keys ORDER BY id").all<{ id: number; selector: string }>()).results;
      assert.equal(rows.length, 6);
      const age = (days: number) => now - days * day;
      await db.batch([
        db.prepare("UPDATE dkim_keys SET retired_at = ? WHERE id IN (?, ?)").bind(age(RETIRED_KEY_PUBLISH_DAYS + 1), rows[0]!.id, rows[1]!.id),
        db.prepare("UPDATE dkim_keys SET retired_at = ? WHERE id IN (?, ?)").bind(age(RETIRED_KEY_PUBLISH_DAYS - 1), rows[2]!.id, rows[3]!.id),
      ]);
    });

    edge = await startEdge(options);
    let remaining: string[];
    try {
      const listed = (await admin(edge.url, "GET", "/domains/aged.test/dkim")).keys;
      const s = `s${new Date(now).toISOString().slice(0, 10).replaceAll("-", "")}`;
      assert.deepEqual(
        listed.map((k) => [k.selector, k.status]),
        [
          [`${s}-2r`, "retired"],
          [`${s}-3r`, "active"],
          [`${s}-2e`, "retired"],
          [`${s}-3e`, "active"],
        ],
      );
      remaining = (await admin(edge.url, "POST", "/domains/aged.test/dkim/rotate", { delaySeconds: 0 })).keys.map((k) => k.selector);
      assert.equal(remaining.length, 6);
    } finally {
      await edge.stop();
    }
    await withD1(async (db) => {
      const rows = (await db.prepare("SELECT selector FROM dkim_keys").all<{ selector: string }>()).results.map((r) => r.selector);
      assert.deepEqual(rows.sort(), [...remaining].sort(), "the keys retired too long ago are deleted, the rest kept");
    });
  });
});
