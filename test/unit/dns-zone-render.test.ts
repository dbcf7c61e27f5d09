/**
 * `edgemail dns` output: the DnsRecordSet as a zone-file snippet (cli/dns/zone.ts) and TLSA 3 1 1
 * data (cli/dns/tlsa.ts). The exact text is pinned on a small set; the edge's own set for a domain
 * with real DKIM keys is read back by ldns-read-zone (a real zone parser), and the TLSA digest is
 * compared with ldns-dane's, so neither rests only on our reading of the RFCs.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import type { DnsRecordSet } from "../../common/contract.ts";
import { tlsaData, tlsaRecords } from "../../cli/dns/tlsa.ts";
import { recordLine, renderZone, txtStrings } from "../../cli/dns/zone.ts";
import { createTestCa } from "../support/test-ca.ts";

const run = promisify(execFile);

// The edge's own record set, loaded by URL: the test project does not build the Worker's sources
// (they need workerd's types), so tsc must not follow this import. The signature is the module's.
const { dnsRecordSet } = (await import(new URL("../../workers/src/store/dns-records.ts", import.meta.url).href)) as {
  dnsRecordSet(input: {
    domain: string;
    mxHosts: string[];
    relayIps: string[];
    reportLocalPart: string;
    mtaStsPolicyId: string | null;
    dkimKeys: { selector: string; algorithm: "rsa-sha256" | "ed25519-sha256"; status: "pending" | "active" | "retired"; retiredAt: number | null; dnsName: string; dnsValue: string }[];
    edgeHost: string;
    now: number;
  }): DnsRecordSet;
};

const SMALL: DnsRecordSet = {
  domain: "example.org",
  edgeHost: "edge.example.net",
  reportAddress: "reports@example.org",
  tlsRptUrl: "https://mta-sts.example.org/tls-reports",
  records: [
    { type: "MX", name: "example.org", ttl: 3600, purpose: "MX", required: true, preference: 10, exchange: "mx1.example.org" },
    { type: "TXT", name: "example.org", ttl: 3600, purpose: "SPF", required: true, text: "v=spf1 mx -all", strings: ["v=spf1 mx -all"] },
    { type: "TXT", name: "_mta-sts.example.org", ttl: 300, purpose: "MTA-STS policy id", required: true, text: "v=STSv1; id=abc123", strings: ["v=STSv1; id=abc123"] },
    { type: "SRV", name: "_imaps._tcp.example.org", ttl: 3600, purpose: "mail client IMAP", required: false, priority: 0, weight: 1, port: 993, target: "mx1.example.org" },
    { type: "CNAME", name: "autoconfig.example.org.", ttl: 3600, purpose: "mail client autoconfig", required: false, target: "edge.example.net" },
  ],
};

describe("edgemail dns: zone-file rendering", () => {
  it("writes absolute names with the final dot, TTL, class IN and a purpose comment per record, marking optional ones", () => {
    assert.equal(
      renderZone(SMALL),
      [
        "; DNS records for example.org, as the edgemail edge computes them",
        "; web hosts point at edge.example.net; DMARC and TLS-RPT reports go to reports@example.org",
        "",
        "; MX",
        "example.org. 3600 IN MX 10 mx1.example.org.",
        "",
        "; SPF",
        'example.org. 3600 IN TXT "v=spf1 mx -all"',
        "",
        "; MTA-STS policy id",
        '_mta-sts.example.org. 300 IN TXT "v=STSv1; id=abc123"',
        "",
        "; mail client IMAP (optional)",
        "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mx1.example.org.",
        "",
        "; mail client autoconfig (optional)",
        "autoconfig.example.org. 3600 IN CNAME edge.example.net.",
        "",
      ].join("\n"),
    );
  });

  it("splits TXT into quoted strings of at most 255 octets and escapes quote, backslash and non-ASCII octets", () => {
    const text = `${"a".repeat(254)}"\\é${"b".repeat(10)}`;
    // The edge's own split is used when it is valid...
    const line = recordLine({ type: "TXT", name: "x.example.org", ttl: 60, purpose: "t", required: true, text, strings: [text.slice(0, 255), text.slice(255)] });
    assert.equal(line, `x.example.org. 60 IN TXT "${"a".repeat(254)}\\"" "\\\\\\195\\169${"b".repeat(10)}"`);
    // ...and a wrong one (a string over 255 octets) is replaced by a split by octets.
    const resplit = txtStrings({ text, strings: [text] });
    assert.deepEqual(resplit.map((b) => b.length), [255, 13]);
    assert.equal(Buffer.concat(resplit).toString("utf8"), text);
    assert.equal(recordLine({ type: "TXT", name: "e.example.org", ttl: 60, purpose: "t", required: true, text: "", strings: [] }), 'e.example.org. 60 IN TXT ""');
  });

  it("renders the edge's own record set (2048-bit DKIM key) as a zone that ldns-read-zone loads back to the same values", async (t) => {
    const spki = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const set = dnsRecordSet({
      domain: "example.org",
      mxHosts: ["mx1.example.org", "mx2.example.org"],
      relayIps: ["192.0.2.1", "2001:db8::1"],
      reportLocalPart: "postmaster",
      mtaStsPolicyId: "0123456789abcdef",
      dkimKeys: [
        { selector: "s1r", algorithm: "rsa-sha256", status: "active", retiredAt: null, dnsName: "s1r._domainkey.example.org", dnsValue: `v=DKIM1; k=rsa; p=${spki}` },
      ],
      edgeHost: "edge.example.net",
      now: Date.now(),
    });
    const tlsa = tlsaRecords(["mx1.example.org"], ["ab".repeat(32)], 3600);
    const dir = await mkdtemp(join(tmpdir(), "edgemail-zone-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "zone");
    await writeFile(file, renderZone(set, tlsa));
    const { stdout, stderr } = await run("ldns-read-zone", [file]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, set.records.length + 1, stderr);
    const dkim = lines.find((l) => l.startsWith("s1r._domainkey.example.org.\t3600\tIN\tTXT\t"));
    assert.ok(dkim, stdout);
    const strings = [...dkim.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    assert.ok(strings.length >= 2 && strings.every((s) => s.length <= 255), "a 2048-bit key needs several strings, each ≤255 octets");
    assert.equal(strings.join(""), `v=DKIM1; k=rsa; p=${spki}`);
    assert.ok(lines.includes("_25._tcp.mx1.example.org.\t3600\tIN\tTLSA\t3 1 1 " + "ab".repeat(32)), stdout);
    assert.ok(lines.includes("example.org.\t3600\tIN\tMX\t20 mx2.example.org."), stdout);
    assert.ok(lines.includes('example.org.\t3600\tIN\tTXT\t"v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all"'), stdout);
  });
});

describe("edgemail dns: TLSA 3 1 1", () => {
  it("is the SHA-256 of the leaf's SubjectPublicKeyInfo, as ldns-dane computes it", async (t) => {
    const ca = await createTestCa();
    const leaf = await ca.issue(["mx1.example.org"]);
    const dir = await mkdtemp(join(tmpdir(), "edgemail-tlsa-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "cert.pem");
    // The leaf first, then the CA: a bundle as certbot writes fullchain.pem.
    const bundle = `${leaf.cert.trim()}\n${ca.cert.trim()}\n`;
    await writeFile(file, bundle);
    const { stdout } = await run("ldns-dane", ["-c", file, "create", "mx1.example.org", "25", "3", "1", "1"]);
    const expected = /TLSA\s+3 1 1 ([0-9a-f]{64})/.exec(stdout)?.[1];
    assert.ok(expected, stdout);
    assert.equal(tlsaData(bundle), expected);
    assert.notEqual(tlsaData(ca.cert), expected, "the CA's key is not the leaf's");
    assert.deepEqual(
      tlsaRecords(["mx1.example.org", "mx2.example.org."], [expected, expected], 300).map((r) => recordLine(r)),
      [`_25._tcp.mx1.example.org. 300 IN TLSA 3 1 1 ${expected}`, `_25._tcp.mx2.example.org. 300 IN TLSA 3 1 1 ${expected}`],
    );
  });
});
