/**
 * The pure parts of outbound delivery: MX ordering (RFC 5321 §5.1, RFC 7505), reply → outcome,
 * and DANE matching (RFC 7672) against certificates from the test CA.
 */
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import type { DetailedPeerCertificate } from "node:tls";
import { daneMatches, usableTlsa } from "../../relay/delivery/dane.ts";
import type { DeliveryDns, MxRecord, TlsaRecord } from "../../relay/delivery/dns.ts";
import { resolveMxRoute } from "../../relay/delivery/mx-route.ts";
import { outcomeFromReply } from "../../relay/delivery/smtp-transfer.ts";
import { createTestCa } from "../support/test-ca.ts";

function zone(mx: Record<string, MxRecord[]>, a: Record<string, string[]>): DeliveryDns {
  return {
    mx: async (d) => mx[d] ?? null,
    addresses: async (h) => a[h] ?? [],
    txt: async () => null,
    tlsa: async () => ({ status: "insecure" }),
    mailauthResolver: async () => [],
  };
}

describe("MX route", () => {
  it("orders by preference, dedupes, strips the root dot", async () => {
    const dns = zone({ "a.example": [{ exchange: "mx2.a.example.", priority: 20 }, { exchange: "MX1.a.example", priority: 10 }, { exchange: "mx1.a.example", priority: 30 }] }, {});
    assert.deepEqual(await resolveMxRoute(dns, "a.example"), { kind: "hosts", hosts: ["mx1.a.example", "mx2.a.example"], implicit: false });
  });
  it("shuffles hosts of equal preference", async () => {
    const dns = zone({ "b.example": [{ exchange: "x.b.example", priority: 10 }, { exchange: "y.b.example", priority: 10 }] }, {});
    const seen = new Set<string>();
    for (const r of [0.1, 0.9]) {
      let n = 0;
      const route = await resolveMxRoute(dns, "b.example", () => (n++ === 0 ? r : 0.5));
      assert.equal(route.kind, "hosts");
      if (route.kind === "hosts") seen.add(route.hosts[0]!);
    }
    assert.equal(seen.size, 2);
  });
  it("implicit MX: no MX but an address; nothing at all: no-host", async () => {
    const dns = zone({}, { "c.example": ["192.0.2.1"] });
    assert.deepEqual(await resolveMxRoute(dns, "c.example"), { kind: "hosts", hosts: ["c.example"], implicit: true });
    assert.deepEqual(await resolveMxRoute(dns, "d.example"), { kind: "no-host" });
  });
  it("null MX (RFC 7505)", async () => {
    assert.deepEqual(await resolveMxRoute(zone({ "e.example": [{ exchange: "", priority: 0 }] }, {}), "e.example"), { kind: "null-mx" });
  });
});

describe("reply → outcome", () => {
  const cases: [string, string, number, string | null][] = [
    ["250 2.0.0 Ok: queued as X", "delivered", 250, "2.0.0"],
    ["450 4.2.0 mailbox busy", "deferred", 450, "4.2.0"],
    ["550 5.1.1 no such user", "failed", 550, "5.1.1"],
    ["554 rejected", "failed", 554, null],
    ["garbage", "deferred", 451, null],
  ];
  for (const [reply, outcome, code, enhanced] of cases) {
    it(reply, () => {
      const o = outcomeFromReply("r@x.example", "mx.x.example", reply);
      assert.equal(o.outcome, outcome);
      assert.equal(o.smtp?.code, code);
      assert.equal(o.smtp?.enhanced, enhanced);
    });
  }
});

describe("DANE", async () => {
  const ca = await createTestCa();
  const leaf = await ca.issue(["mx.dane.example"]);
  const other = await ca.selfSigned(["mx.dane.example"]);
  const caCert = new X509Certificate(ca.cert);
  const leafCert = new X509Certificate(leaf.cert);
  const peer = (cert: X509Certificate, issuer?: X509Certificate): DetailedPeerCertificate => {
    const top = issuer
      ? ({ raw: issuer.raw, fingerprint256: issuer.fingerprint256, subjectaltname: "" } as DetailedPeerCertificate)
      : undefined;
    const p = {
      raw: cert.raw,
      fingerprint256: cert.fingerprint256,
      subject: { CN: "mx.dane.example" },
      subjectaltname: "DNS:mx.dane.example",
      issuerCertificate: top,
    } as unknown as DetailedPeerCertificate;
    if (top) (top as { issuerCertificate?: DetailedPeerCertificate }).issuerCertificate = top;
    return p;
  };
  const spki = (c: X509Certificate) => c.publicKey.export({ type: "spki", format: "der" });
  const record = (usage: number, selector: number, matchingType: number, data: Buffer): TlsaRecord => ({ usage, selector, matchingType, data });
  const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();

  it("DANE-EE 3 1 1 matches the leaf's key, whatever its issuer or name", () => {
    assert.ok(daneMatches([record(3, 1, 1, sha256(spki(leafCert)))], peer(leafCert), "other.example"));
    assert.ok(!daneMatches([record(3, 1, 1, sha256(spki(new X509Certificate(other.cert))))], peer(leafCert), "mx.dane.example"));
  });
  it("DANE-EE 3 0 0 matches the full certificate", () => {
    assert.ok(daneMatches([record(3, 0, 0, leafCert.raw)], peer(leafCert), "mx.dane.example"));
  });
  it("DANE-TA 2 0 1 needs the anchor in the chain and the MX name on the leaf", () => {
    const ta = [record(2, 0, 1, sha256(caCert.raw))];
    assert.ok(daneMatches(ta, peer(leafCert, caCert), "mx.dane.example"));
    assert.ok(!daneMatches(ta, peer(leafCert, caCert), "mx.elsewhere.example"));
    assert.ok(!daneMatches(ta, peer(leafCert), "mx.dane.example"), "anchor not presented");
  });
  it("PKIX usages are unusable for SMTP (RFC 7672 §3.1.3)", () => {
    const records = [record(1, 1, 1, sha256(spki(leafCert))), record(0, 0, 1, sha256(caCert.raw))];
    assert.deepEqual(usableTlsa(records), []);
    assert.ok(!daneMatches(records, peer(leafCert, caCert), "mx.dane.example"));
  });
});
