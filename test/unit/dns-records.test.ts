/**
 * The DNS record set as a pure function of a domain's settings, keys and policy
 * (workers/src/store/dns-records.ts, spec in common/contract/dns.ts): record by record for a plain
 * domain, SPF with relay addresses, the DKIM publication window around a rotation, a domain
 * without MTA-STS, and the 255-octet split of TXT values.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DnsRecordSet, RETIRED_KEY_PUBLISH_DAYS, type DkimPublicKey, type DnsRecord } from "../../common/contract.ts";

interface DnsInputs {
  domain: string;
  mxHosts: string[];
  relayIps: string[];
  reportLocalPart: string;
  mtaStsPolicyId: string | null;
  dkimKeys: Pick<DkimPublicKey, "selector" | "algorithm" | "status" | "retiredAt" | "dnsName" | "dnsValue">[];
  edgeHost: string;
  now: number;
}
// Loaded by URL: the test project does not build the Worker's sources (they need workerd's types),
// so tsc must not follow this import; the signatures above are what the module exports.
const { dnsRecordSet, splitTxt } = (await import(new URL("../../workers/src/store/dns-records.ts", import.meta.url).href)) as {
  dnsRecordSet(input: DnsInputs): DnsRecordSet;
  splitTxt(text: string): string[];
};

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 24, 12);
const RSA_P = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "x".repeat(348) + "IDAQAB";
const key = (selector: string, algorithm: DkimPublicKey["algorithm"], status: DkimPublicKey["status"], retiredAt: number | null = null) => ({
  selector,
  algorithm,
  status,
  retiredAt,
  dnsName: `${selector}._domainkey.example.org`,
  dnsValue: `v=DKIM1; k=${algorithm === "rsa-sha256" ? "rsa" : "ed25519"}; p=${algorithm === "rsa-sha256" ? RSA_P : "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}`,
});
const inputs = (over: Partial<DnsInputs> = {}): DnsInputs => ({
  domain: "example.org",
  mxHosts: ["mail.example.org"],
  relayIps: [],
  reportLocalPart: "reports",
  mtaStsPolicyId: "0123456789abcdef",
  dkimKeys: [key("s20261124r", "rsa-sha256", "active"), key("s20261124e", "ed25519-sha256", "active")],
  edgeHost: "edge.example.net",
  now: NOW,
  ...over,
});
/** name, type and the value, as one line per record: reads like a zone file. */
const zone = (records: DnsRecord[]) =>
  records.map((r) => {
    switch (r.type) {
      case "MX":
        return `${r.name} ${r.ttl} MX ${r.preference} ${r.exchange}`;
      case "TXT":
        return `${r.name} ${r.ttl} TXT ${r.text.length > 200 ? `${r.text.slice(0, 30)}…` : r.text}`;
      case "CNAME":
        return `${r.name} ${r.ttl} CNAME ${r.target}`;
      case "SRV":
        return `${r.name} ${r.ttl} SRV ${r.priority} ${r.weight} ${r.port} ${r.target}`;
      case "TLSA":
        return `${r.name} ${r.ttl} TLSA ${r.usage} ${r.selector} ${r.matchingType} ${r.data}`;
    }
  });

describe("DNS record set", () => {
  it("lists everything a fresh domain publishes, in order, and matches the contract", () => {
    const set = dnsRecordSet(inputs());
    assert.deepEqual(DnsRecordSet.parse(set), set);
    assert.equal(set.reportAddress, "reports@example.org");
    assert.equal(set.tlsRptUrl, "https://mta-sts.example.org/tls-reports");
    assert.equal(set.edgeHost, "edge.example.net");
    assert.deepEqual(zone(set.records), [
      "example.org 3600 MX 10 mail.example.org",
      "example.org 3600 TXT v=spf1 mx -all",
      "s20261124r._domainkey.example.org 3600 TXT v=DKIM1; k=rsa; p=MIIBIjANBgkq…",
      "s20261124e._domainkey.example.org 3600 TXT v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
      "_dmarc.example.org 3600 TXT v=DMARC1; p=quarantine; rua=mailto:reports@example.org",
      "_mta-sts.example.org 300 TXT v=STSv1; id=0123456789abcdef",
      "mta-sts.example.org 3600 CNAME edge.example.net",
      "_smtp._tls.example.org 3600 TXT v=TLSRPTv1; rua=mailto:reports@example.org,https://mta-sts.example.org/tls-reports",
      "_submissions._tcp.example.org 3600 SRV 0 1 465 mail.example.org",
      "_imaps._tcp.example.org 3600 SRV 0 1 993 mail.example.org",
      "autoconfig.example.org 3600 CNAME edge.example.net",
      "autodiscover.example.org 3600 CNAME edge.example.net",
    ]);
    const optional = set.records.filter((r) => !r.required).map((r) => r.name);
    assert.deepEqual(optional, ["_submissions._tcp.example.org", "_imaps._tcp.example.org", "autoconfig.example.org", "autodiscover.example.org"]);
    assert.deepEqual(
      set.records.filter((r) => r.name.includes("_domainkey")).map((r) => r.purpose),
      ["DKIM rsa s20261124r", "DKIM ed25519 s20261124e"],
    );
  });

  it("gives MX hosts preferences 10, 20, 30 in order, and SRV the first of them", () => {
    const set = dnsRecordSet(inputs({ mxHosts: ["mx1.relay.test", "mx2.relay.test", "mx3.relay.test"] }));
    assert.deepEqual(
      set.records.filter((r) => r.type === "MX").map((r) => [r.preference, r.exchange]),
      [
        [10, "mx1.relay.test"],
        [20, "mx2.relay.test"],
        [30, "mx3.relay.test"],
      ],
    );
    assert.deepEqual(set.records.filter((r) => r.type === "SRV").map((r) => r.target), ["mx1.relay.test", "mx1.relay.test"]);
  });

  it("names the relays' addresses in SPF, ip4 and ip6, instead of mx", () => {
    const set = dnsRecordSet(inputs({ relayIps: ["192.0.2.10", "2001:db8::25"] }));
    const spf = set.records.find((r) => r.type === "TXT" && r.purpose === "SPF");
    assert.equal(spf?.type === "TXT" && spf.text, "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all");
  });

  it("uses the report local part in DMARC and TLS-RPT", () => {
    const set = dnsRecordSet(inputs({ reportLocalPart: "dmarc-reports" }));
    assert.equal(set.reportAddress, "dmarc-reports@example.org");
    const texts = set.records.flatMap((r) => (r.type === "TXT" ? [r.text] : []));
    assert.ok(texts.includes("v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org"));
    assert.ok(texts.includes("v=TLSRPTv1; rua=mailto:dmarc-reports@example.org,https://mta-sts.example.org/tls-reports"));
  });

  it("publishes pending and active keys, and retired ones for RETIRED_KEY_PUBLISH_DAYS after they stopped signing", () => {
    const window = RETIRED_KEY_PUBLISH_DAYS * DAY;
    const set = dnsRecordSet(
      inputs({
        dkimKeys: [
          key("s20260101r", "rsa-sha256", "retired", NOW - window - 1),
          key("s20260102r", "rsa-sha256", "retired", NOW - window),
          key("s20261120r", "rsa-sha256", "retired", NOW - window + 1),
          key("s20261124r", "rsa-sha256", "active"),
          key("s20261201r", "rsa-sha256", "pending"),
        ],
      }),
    );
    assert.deepEqual(
      set.records.filter((r) => r.name.includes("._domainkey.")).map((r) => r.purpose),
      ["DKIM rsa s20261120r (retired)", "DKIM rsa s20261124r", "DKIM rsa s20261201r (pending)"],
    );
  });

  it("without an MTA-STS policy: no _mta-sts, no mta-sts host, and TLS-RPT over HTTPS on the edge host", () => {
    const set = dnsRecordSet(inputs({ mtaStsPolicyId: null }));
    assert.ok(!set.records.some((r) => r.name.startsWith("_mta-sts.") || r.name.startsWith("mta-sts.")));
    assert.equal(set.tlsRptUrl, "https://edge.example.net/tls-reports");
    const tlsRpt = set.records.find((r) => r.name === "_smtp._tls.example.org");
    assert.equal(tlsRpt?.type === "TXT" && tlsRpt.text, "v=TLSRPTv1; rua=mailto:reports@example.org,https://edge.example.net/tls-reports");
  });

  it("splits TXT values into character-strings of at most 255 octets, joined back to the whole", () => {
    const set = dnsRecordSet(inputs());
    const rsa = set.records.find((r) => r.name === "s20261124r._domainkey.example.org");
    assert.ok(rsa?.type === "TXT");
    assert.ok(rsa.text.length > 255);
    assert.deepEqual(rsa.strings.map((s) => s.length), [255, rsa.text.length - 255]);
    assert.equal(rsa.strings.join(""), rsa.text);
    for (const r of set.records) if (r.type === "TXT" && r.text.length <= 255) assert.deepEqual(r.strings, [r.text]);

    assert.deepEqual(splitTxt("a".repeat(255)), ["a".repeat(255)]);
    assert.deepEqual(splitTxt("a".repeat(256)), ["a".repeat(255), "a"]);
    assert.deepEqual(splitTxt("a".repeat(600)).map((s) => s.length), [255, 255, 90]);
    assert.deepEqual(splitTxt(""), [""]);
    // Two-octet characters: 127 fit (254 octets); the 128th would straddle the boundary.
    const wide = splitTxt("é".repeat(200));
    assert.deepEqual(wide.map((s) => new TextEncoder().encode(s).length), [254, 146]);
    assert.equal(wide.join(""), "é".repeat(200));
  });
});
