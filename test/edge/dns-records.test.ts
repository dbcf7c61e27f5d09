/**
 * `GET /admin/v1/domains/:domain/dns` against a real edge: the whole record set of a fresh domain
 * (its real DKIM keys, its real MTA-STS policy id), the set after the settings it derives from
 * change, and the answers for an unknown domain and a missing token.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DnsRecordSet, type DkimPublicKeys, type DnsRecord, type DomainWithSettings } from "../../common/contract.ts";
import { setDomainSettings, startTestEdge, type TestEdge } from "../support/edge-api.ts";

type Txt = Extract<DnsRecord, { type: "TXT" }>;

describe("DNS record set of a domain", () => {
  let edge: TestEdge;
  let edgeHost: string;
  const dns = async (domain: string) => {
    const r = await edge.admin<DnsRecordSet>("GET", `/domains/${domain}/dns`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(DnsRecordSet.parse(r.body), r.body, "the answer is exactly the contract's shape");
    return r.body;
  };
  const named = (set: DnsRecordSet, name: string) => set.records.filter((r) => r.name === name);
  const txtAt = (set: DnsRecordSet, name: string) => named(set, name).filter((r): r is Txt => r.type === "TXT");

  before(async () => {
    edge = await startTestEdge();
    // No EDGE_HOSTNAME in tests: the host the admin request came to, without its port.
    edgeHost = new URL(edge.url).hostname;
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org" })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });

  it("lists everything a fresh domain must publish", async () => {
    const set = await dns("Example.ORG");
    const domain = (await edge.admin<DomainWithSettings>("GET", "/domains/example.org")).body;
    const keys = (await edge.admin<DkimPublicKeys>("GET", "/domains/example.org/dkim")).body.keys;
    assert.equal(set.domain, "example.org");
    assert.equal(set.edgeHost, edgeHost);
    assert.equal(set.reportAddress, "reports@example.org");
    assert.equal(set.tlsRptUrl, "https://mta-sts.example.org/tls-reports");

    assert.deepEqual(
      named(set, "example.org").map((r) => (r.type === "MX" ? `MX ${r.preference} ${r.exchange}` : r.type === "TXT" ? `TXT ${r.text}` : r.type)),
      ["MX 10 mail.example.org", "TXT v=spf1 mx -all"],
    );

    // Both keys of the domain, exactly as the DKIM endpoint gives them, split for DNS.
    assert.equal(keys.length, 2);
    for (const key of keys) {
      const [record] = txtAt(set, key.dnsName);
      assert.ok(record, key.dnsName);
      assert.equal(record.text, key.dnsValue);
      assert.equal(record.strings.join(""), record.text);
      for (const s of record.strings) assert.ok(new TextEncoder().encode(s).length <= 255);
      assert.ok(record.required);
    }
    const rsa = txtAt(set, keys.find((k) => k.algorithm === "rsa-sha256")!.dnsName)[0]!;
    const ed = txtAt(set, keys.find((k) => k.algorithm === "ed25519-sha256")!.dnsName)[0]!;
    assert.match(rsa.text, /^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+$/);
    assert.ok(rsa.text.length > 255, "a 2048-bit RSA key does not fit one character-string");
    assert.deepEqual(rsa.strings.map((s) => s.length), [255, rsa.text.length - 255]);
    assert.match(ed.text, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(ed.strings, [ed.text]);

    assert.deepEqual(txtAt(set, "_dmarc.example.org").map((r) => r.text), ["v=DMARC1; p=quarantine; rua=mailto:reports@example.org"]);
    // The id senders compare is the one of the policy the mta-sts host serves.
    const [stsId] = txtAt(set, "_mta-sts.example.org");
    assert.equal(stsId?.text, `v=STSv1; id=${domain.mtaSts?.policyId}`);
    assert.equal(stsId?.ttl, 300);
    assert.deepEqual(named(set, "mta-sts.example.org"), [
      { type: "CNAME", name: "mta-sts.example.org", ttl: 3600, purpose: "MTA-STS policy host", required: true, target: edgeHost },
    ]);
    assert.deepEqual(txtAt(set, "_smtp._tls.example.org").map((r) => r.text), [
      "v=TLSRPTv1; rua=mailto:reports@example.org,https://mta-sts.example.org/tls-reports",
    ]);
    assert.deepEqual(
      set.records.filter((r) => r.type === "SRV").map((r) => r.type === "SRV" && [r.name, r.priority, r.weight, r.port, r.target, r.required]),
      [
        ["_submissions._tcp.example.org", 0, 1, 465, "mail.example.org", false],
        ["_imaps._tcp.example.org", 0, 1, 993, "mail.example.org", false],
      ],
    );
    for (const host of ["autoconfig.example.org", "autodiscover.example.org"]) {
      assert.deepEqual(named(set, host).map((r) => r.type === "CNAME" && [r.target, r.required]), [[edgeHost, false]], host);
    }
    assert.equal(set.records.length, 12, set.records.map((r) => `${r.type} ${r.name}`).join("\n"));
    for (const r of set.records) assert.ok(!r.name.endsWith("."), `${r.name}: names are absolute without the final dot`);
  });

  it("follows the settings: MX hosts, relay addresses, report address, and no MTA-STS records without a policy", async () => {
    await setDomainSettings(edge, "example.org", {
      mxHosts: ["mx1.relay.test", "mx2.relay.test"],
      relayIps: ["192.0.2.25", "2001:DB8::25"],
      reportLocalPart: "postbox",
    });
    const set = await dns("example.org");
    assert.deepEqual(
      set.records.filter((r) => r.type === "MX").map((r) => r.type === "MX" && [r.preference, r.exchange]),
      [
        [10, "mx1.relay.test"],
        [20, "mx2.relay.test"],
      ],
    );
    assert.deepEqual(txtAt(set, "example.org").map((r) => r.text), ["v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 -all"]);
    assert.equal(set.reportAddress, "postbox@example.org");
    assert.deepEqual(txtAt(set, "_dmarc.example.org").map((r) => r.text), ["v=DMARC1; p=quarantine; rua=mailto:postbox@example.org"]);
    assert.deepEqual(set.records.filter((r) => r.type === "SRV").map((r) => r.type === "SRV" && r.target), ["mx1.relay.test", "mx1.relay.test"]);
    // The policy follows mxHosts, so its id (and the _mta-sts record) changed with them.
    const domain = (await edge.admin<DomainWithSettings>("GET", "/domains/example.org")).body;
    assert.deepEqual(domain.mtaSts?.mx, ["mx1.relay.test", "mx2.relay.test"]);
    assert.equal(txtAt(set, "_mta-sts.example.org")[0]?.text, `v=STSv1; id=${domain.mtaSts?.policyId}`);

    await setDomainSettings(edge, "example.org", { mtaSts: null, relayIps: null });
    const none = await dns("example.org");
    assert.deepEqual(named(none, "_mta-sts.example.org"), []);
    assert.deepEqual(named(none, "mta-sts.example.org"), []);
    assert.deepEqual(txtAt(none, "example.org").map((r) => r.text), ["v=spf1 mx -all"]);
    // Without the mta-sts host, TLS-RPT reports over HTTPS go to the edge's own host.
    assert.equal(none.tlsRptUrl, `https://${edgeHost}/tls-reports`);
    assert.deepEqual(txtAt(none, "_smtp._tls.example.org").map((r) => r.text), [`v=TLSRPTv1; rua=mailto:postbox@example.org,https://${edgeHost}/tls-reports`]);
    assert.equal(none.records.length, 11);
  });

  it("gives a mirror domain its own MX, SPF, DMARC and DKIM keys", async () => {
    assert.equal((await edge.admin("POST", "/domains", { name: "mirror.test" })).status, 201);
    await setDomainSettings(edge, "mirror.test", { aliasOf: "example.org" });
    const set = await dns("mirror.test");
    const keys = (await edge.admin<DkimPublicKeys>("GET", "/domains/mirror.test/dkim")).body.keys;
    assert.deepEqual(named(set, "mirror.test").map((r) => r.type), ["MX", "TXT"]);
    assert.equal(txtAt(set, "_dmarc.mirror.test").length, 1);
    assert.deepEqual(
      set.records.filter((r) => r.name.includes("._domainkey.")).map((r) => r.name),
      keys.map((k) => k.dnsName),
    );
    assert.ok(keys.every((k) => k.dnsName.endsWith("._domainkey.mirror.test")));
  });

  it("answers 404 not_found for a domain we do not serve", async () => {
    const r = await edge.admin("GET", "/domains/unknown.test/dns");
    assert.equal(r.status, 404);
    assert.equal(r.error?.code, "not_found");
  });

  it("answers 401 without the admin token, and with the relay key", async () => {
    for (const token of [null, "test-relay-key-0123456789"]) {
      const r = await edge.admin("GET", "/domains/example.org/dns", undefined, token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.error?.code, "unauthorized");
    }
  });
});
