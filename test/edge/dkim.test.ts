/**
 * DKIM keys against a real edge: every new domain has an RSA and an ed25519 key; the public key
 * the admin API publishes is the one of the private key the relay signs with; a domain whose keys
 * are missing (as for one created before keys existed) gets exactly one pair on first read.
 */
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import type { DkimPublicKeys, DkimSigningKeys } from "../../common/contract.ts";
import { startEdge } from "../../local/edge.ts";
import { ADMIN_TOKEN, RELAY_KEY, startTestEdge, type TestEdge } from "../support/edge-api.ts";

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
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        cf: false,
        resourcePersistencePath: dataDir,
        workers: [
          {
            name: "edgemail",
            modules: true,
            script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
            compatibilityDate: "2026-10-01",
            d1Databases: { DB: "edgemail" },
          },
        ],
      }),
    );
    try {
      const db = await mf.getD1Database("DB");
      const deleted = await db.prepare("DELETE FROM dkim_keys").run();
      assert.equal(deleted.meta.changes, 2);
    } finally {
      await mf.dispose();
    }

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
