/**
 * `edgemail doctor` against the real stack, as an operator runs it: the edge's own DnsRecordSet
 * published in a local DNS zone (unbound), the relay's listeners with a certificate from a test
 * CA for the MX host, and the MTA-STS policy fetched through a TLS front to the real edge. First
 * everything is right and every line is ✓ (exit 0); then one thing at a time is broken — each
 * record, the reverse DNS, the policy, the certificate, STARTTLS — and exactly the checks that
 * should notice it fail, each with its fix (exit 1).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { recordLine } from "../../cli/dns/zone.ts";
import type { DnsRecordSet } from "../../common/contract.ts";
import { ptrName, startDnsZone, type DnsZone, type ZoneRecord } from "../support/dns-zone.ts";
import { startPolicyServer, type PolicyServer } from "../support/https-policy.ts";
import { startRemoteMxs, type RemoteMxs } from "../support/remote-mx.ts";
import { startTestStack } from "../support/stack.ts";
import { createTestCa, type TestCa } from "../support/test-ca.ts";
import { startTlsProxy, type TlsProxy } from "../support/tls-proxy.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
interface Check {
  check: string;
  ok: boolean;
  found: string;
  fix: string | null;
}

const CLI = fileURLToPath(new URL("../../cli/edgemail.ts", import.meta.url));
const DOMAIN = "doctor.test";
const MX = "mx.doctor.test";
const IP = "127.0.0.1";

function edgemail(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

/** The zone an operator would publish from the edge's record set, plus what lives outside it. */
function zoneFrom(set: DnsRecordSet): ZoneRecord[] {
  const records: ZoneRecord[] = [];
  for (const r of set.records) {
    if (r.type === "MX") records.push({ type: "MX", name: r.name, ttl: 5, preference: r.preference, exchange: r.exchange });
    else if (r.type === "TXT") records.push({ type: "TXT", name: r.name, ttl: 5, text: r.strings });
    else if (r.type === "CNAME") records.push({ type: "CNAME", name: r.name, ttl: 5, target: r.target });
    else if (r.type === "SRV") records.push({ type: "SRV", name: r.name, ttl: 5, priority: r.priority, weight: r.weight, port: r.port, target: r.target });
  }
  // What the edge cannot publish: the relay's address and its reverse DNS, and the edge's own host.
  records.push({ type: "A", name: MX, address: IP });
  records.push({ type: "PTR", name: ptrName(IP), target: MX });
  records.push({ type: "A", name: set.edgeHost, address: IP });
  return records;
}

describe("edgemail doctor", () => {
  let ca: TestCa;
  let dataDir: string;
  let stack: Stack;
  let zone: DnsZone;
  let proxy: TlsProxy;
  let policyServer: PolicyServer;
  let remote: RemoteMxs;
  let good: ZoneRecord[];
  let set: DnsRecordSet;
  let env: Record<string, string>;
  let portArg: string;
  let caFile: string;

  const useRelayCertificate = async (kind: "good" | "wrong-name" | "expired") => {
    const material = kind === "wrong-name" ? await ca.issue(["wrong-name.invalid"]) : await ca.issue([MX], { expired: kind === "expired" });
    await writeFile(join(dataDir, "tls", "cert.pem"), material.cert);
    await writeFile(join(dataDir, "tls", "key.pem"), material.key, { mode: 0o600 });
  };

  before(async () => {
    ca = await createTestCa();
    dataDir = await mkdtemp(join(tmpdir(), "edgemail-doctor-"));
    await mkdir(join(dataDir, "tls"), { recursive: true });
    // The stack keeps certificate files it finds, so the relay presents the test CA's leaf.
    await useRelayCertificate("good");
    caFile = join(dataDir, "ca.pem");
    await writeFile(caFile, ca.cert);
    // The reverse zone is ours even while a case has no PTR in it: else unbound's built-in
    // 127.in-addr.arpa. would answer "localhost".
    zone = await startDnsZone([], { zones: ["127.in-addr.arpa"] });
    stack = await startTestStack({ dataDir, dnsServers: [zone.server], hostname: MX });
    await stack.admin("POST", "/domains", { name: DOMAIN, mxHosts: [MX] });
    // Through "localhost", so the edge names itself (edgeHost) by a name the zone can hold.
    const edgeUrl = `http://localhost:${stack.edge!.port}`;
    env = { EDGEMAIL_URL: edgeUrl, EDGEMAIL_TOKEN: stack.secrets.adminToken };
    const response = await fetch(`${edgeUrl}/admin/v1/domains/${DOMAIN}/dns`, { headers: { authorization: `Bearer ${stack.secrets.adminToken}` } });
    assert.equal(response.status, 200);
    set = (await response.json()) as DnsRecordSet;
    good = zoneFrom(set);
    await zone.update(good);
    proxy = await startTlsProxy({ ip: IP, target: { host: "127.0.0.1", port: stack.edge!.port }, certificates: { [`mta-sts.${DOMAIN}`]: await ca.issue([`mta-sts.${DOMAIN}`]) } });
    policyServer = await startPolicyServer({ ip: IP, ca });
    remote = await startRemoteMxs([{ ip: IP, name: MX, tls: "none" }], { ca });
    const p = stack.relay!.ports;
    portArg = `smtp=${p.mx},submissions=${p.submissions},submission=${p.submission},imaps=${p.imaps},https=${proxy.port}`;
  });

  after(async () => {
    await remote?.stop();
    await policyServer?.stop();
    await proxy?.stop();
    await stack?.cleanup();
    await zone?.stop();
  });

  const doctor = (extra: string[] = [], ports = portArg) =>
    edgemail(["doctor", DOMAIN, "--resolver", zone.server, "--ca", caFile, "--port", ports, "--timeout", "3s", ...extra], env);

  /** Runs doctor --json and checks that exactly `failing` fail, each with a fix. */
  async function expectFailures(failing: string[], ports?: string): Promise<Map<string, Check>> {
    const { code, stdout, stderr } = await doctor(["--json"], ports);
    const results = JSON.parse(stdout) as Check[];
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(failed.map((r) => r.check).sort(), [...failing].sort(), `${stdout}\n${stderr}`);
    for (const r of failed) assert.ok(r.fix && r.fix.length > 10, `a fix for ${r.check}`);
    assert.equal(code, 1);
    return new Map(results.map((r) => [r.check, r]));
  }

  const without = (pred: (r: ZoneRecord) => boolean) => good.filter((r) => !pred(r));
  const replacing = (pred: (r: ZoneRecord) => boolean, next: ZoneRecord) => [...without(pred), next];
  const isTxt = (name: string, prefix: string) => (r: ZoneRecord) =>
    r.type === "TXT" && r.name === name && [r.text].flat().join("").startsWith(prefix);

  it("passes every check when DNS, the policy host and the relay are set up as the edge says", async () => {
    const { code, stdout, stderr } = await doctor();
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const lines = stdout.trim().split("\n");
    assert.ok(lines.every((l) => l.startsWith("✓ ")), stdout);
    for (const check of [
      "MX",
      "SPF",
      "DMARC",
      "MTA-STS TXT",
      "TLS-RPT",
      "SRV _submissions._tcp",
      "SRV _imaps._tcp",
      `host mta-sts.${DOMAIN}`,
      `host autoconfig.${DOMAIN}`,
      "MTA-STS policy fetch",
      "MTA-STS policy syntax",
      "MTA-STS policy covers MX",
      "MTA-STS policy matches edge",
      `addresses ${MX}`,
      `FCrDNS ${IP}`,
      `TLS smtp ${MX} [${IP}]`,
      `TLS submissions ${MX} [${IP}]`,
      `TLS submission ${MX} [${IP}]`,
      `TLS imaps ${MX} [${IP}]`,
    ]) {
      assert.ok(lines.some((l) => l.startsWith(`✓ ${check}  `)), `${check} in\n${stdout}`);
    }
    const dkim = set.records.filter((r) => r.name.includes("._domainkey."));
    assert.equal(dkim.length, 2);
    assert.equal(lines.filter((l) => l.startsWith("✓ DKIM ")).length, 2);
    assert.match(stdout, new RegExp(`✓ FCrDNS ${IP}  ${IP} → ${MX} → ${IP}`));
    assert.match(stdout, /✓ TLS smtp .*STARTTLS.*certificate for DNS:mx\.doctor\.test by edgemail test CA, 36\d days left/);
    assert.match(stdout, /✓ MTA-STS policy syntax  STSv1, mode testing, max_age 604800, mx mx\.doctor\.test/);
  });

  it("edgemail dns prints the records the doctor checks, with TLSA 3 1 1 from the relay's certificate file or port", async () => {
    const certFile = join(dataDir, "tls", "cert.pem");
    const spki = new X509Certificate(await readFile(certFile)).publicKey.export({ type: "spki", format: "der" });
    const tlsa = `_25._tcp.${MX}. 3600 IN TLSA 3 1 1 ${createHash("sha256").update(spki).digest("hex")}`;
    const mxPort = stack.relay!.ports.mx!;
    const zoneText = await edgemail(["dns", DOMAIN, "--tlsa", certFile, "--tlsa-from", `${IP}:${mxPort}`], env);
    assert.equal(zoneText.code, 0, zoneText.stderr);
    const lines = zoneText.stdout.trim().split("\n");
    assert.ok(lines.includes(`${DOMAIN}. 3600 IN MX 10 ${MX}.`), zoneText.stdout);
    assert.ok(lines.includes(`; MTA-STS policy host`) && lines.includes(`mta-sts.${DOMAIN}. 3600 IN CNAME ${set.edgeHost}.`), zoneText.stdout);
    // The file and the live port hold the same key: one record, not two.
    assert.deepEqual(lines.filter((l) => l.includes(" IN TLSA ")), [tlsa]);
    assert.equal(lines.filter((l) => l.startsWith("; ")).length, lines.filter((l) => / IN /.test(l)).length + 2, "a comment per record");

    const json = await edgemail(["dns", DOMAIN, "--json", "--tlsa-from", `${IP}:${stack.relay!.ports.imaps}`], env);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as DnsRecordSet;
    assert.deepEqual(parsed.records.slice(0, -1), set.records);
    assert.equal(recordLine(parsed.records.at(-1)!), tlsa);

    const refused = await edgemail(["dns", DOMAIN, "--tlsa-from", `${IP}:1`, "--timeout", "2s"], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--tlsa-from 127\.0\.0\.1:1: connect failed: connection refused/);
    assert.equal((await edgemail(["dns", DOMAIN, "--tlsa", join(dataDir, "nope.pem")], env)).code, 2);
  });

  it("names each broken record, with the record to publish as the fix", async () => {
    const mxLine = `${DOMAIN}. 3600 IN MX 10 ${MX}.`;
    await zone.update(without((r) => r.type === "MX"));
    let r = await expectFailures(["MX"]);
    assert.match(r.get("MX")!.found, /has no MX record/);
    assert.equal(r.get("MX")!.fix, `publish ${mxLine}`);

    await zone.update(replacing(isTxt(DOMAIN, "v=spf1"), { type: "TXT", name: DOMAIN, text: "v=spf1 a ~all" }));
    r = await expectFailures(["SPF"]);
    assert.match(r.get("SPF")!.found, /ends in ~all instead of -all; lacks mx; has a, which the relays do not need/);
    assert.equal(r.get("SPF")!.fix, `replace it: publish ${DOMAIN}. 3600 IN TXT "v=spf1 mx -all"`);

    const [rsa, ed] = set.records.filter((x) => x.type === "TXT" && x.name.includes("._domainkey."));
    const selector = (name: string) => name.split(".")[0]!;
    await zone.update(without((x) => x.name === rsa!.name));
    r = await expectFailures([`DKIM ${selector(rsa!.name)}`]);
    assert.match(r.get(`DKIM ${selector(rsa!.name)}`)!.found, /has no TXT record/);
    assert.ok(r.get(`DKIM ${selector(rsa!.name)}`)!.fix!.startsWith(`publish ${rsa!.name}. 3600 IN TXT "v=DKIM1; k=rsa; p=`));

    await zone.update(replacing((x) => x.name === ed!.name, { type: "TXT", name: ed!.name, text: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" }));
    r = await expectFailures([`DKIM ${selector(ed!.name)}`]);
    assert.match(r.get(`DKIM ${selector(ed!.name)}`)!.found, /its public key is not the edge's/);

    await zone.update(without(isTxt(`_dmarc.${DOMAIN}`, "v=DMARC1")));
    r = await expectFailures(["DMARC"]);
    assert.equal(r.get("DMARC")!.fix, `publish _dmarc.${DOMAIN}. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:${set.reportAddress}"`);

    await zone.update(replacing(isTxt(`_mta-sts.${DOMAIN}`, "v=STSv1"), { type: "TXT", name: `_mta-sts.${DOMAIN}`, text: "v=STSv1; id=stale1" }));
    r = await expectFailures(["MTA-STS TXT"]);
    assert.match(r.get("MTA-STS TXT")!.found, /has id=stale1, the edge's policy id is \w+/);
    assert.match(r.get("MTA-STS TXT")!.fix!, new RegExp(`^replace it: publish _mta-sts\\.${DOMAIN.replace(".", "\\.")}\\. 300 IN TXT "v=STSv1; id=\\w+"$`));

    await zone.update(without(isTxt(`_smtp._tls.${DOMAIN}`, "v=TLSRPTv1")));
    r = await expectFailures(["TLS-RPT"]);
    assert.equal(r.get("TLS-RPT")!.fix, `publish _smtp._tls.${DOMAIN}. 3600 IN TXT "v=TLSRPTv1; rua=mailto:${set.reportAddress},${set.tlsRptUrl}"`);

    await zone.update(without((x) => x.type === "SRV" && x.name === `_submissions._tcp.${DOMAIN}`));
    r = await expectFailures(["SRV _submissions._tcp"]);
    assert.equal(r.get("SRV _submissions._tcp")!.fix, `publish _submissions._tcp.${DOMAIN}. 3600 IN SRV 0 1 465 ${MX}.`);
  });

  it("fails FCrDNS when the relay's address has no PTR, or one that does not lead back to it", async () => {
    await zone.update(without((x) => x.type === "PTR"));
    let r = await expectFailures([`FCrDNS ${IP}`]);
    assert.match(r.get(`FCrDNS ${IP}`)!.found, /has no PTR record/);
    assert.match(r.get(`FCrDNS ${IP}`)!.fix!, new RegExp(`set its PTR to ${MX}`));

    await zone.update([
      ...replacing((x) => x.type === "PTR", { type: "PTR", name: ptrName(IP), target: `other.${DOMAIN}` }),
      { type: "A", name: `other.${DOMAIN}`, address: "127.0.0.2" },
    ]);
    r = await expectFailures([`FCrDNS ${IP}`]);
    assert.match(r.get(`FCrDNS ${IP}`)!.found, new RegExp(`has PTR other\\.doctor\\.test, which does not resolve back to it \\(other\\.doctor\\.test → 127\\.0\\.0\\.2\\)`));
    await zone.update(good);
  });

  it("fails the policy checks when the policy host serves a policy whose mx does not cover the MX", async () => {
    await policyServer.setPolicy(DOMAIN, "version: STSv1\nmode: enforce\nmx: *.elsewhere.example\nmax_age: 86400\n");
    const r = await expectFailures(["MTA-STS policy covers MX", "MTA-STS policy matches edge"], portArg.replace(/https=\d+/, `https=${policyServer.port}`));
    assert.match(r.get("MTA-STS policy covers MX")!.found, /no mx line of the policy \(\*\.elsewhere\.example\) matches mx\.doctor\.test/);
    assert.match(r.get("MTA-STS policy matches edge")!.found, /mode enforce \(edge: testing\), max_age 86400 \(edge: 604800\), mx \*\.elsewhere\.example \(edge: mx\.doctor\.test\)/);
    assert.match(r.get("MTA-STS policy matches edge")!.fix!, /CNAME localhost/);
  });

  it("fails TLS when EHLO offers no STARTTLS, the certificate names another host, or it has expired", async () => {
    let r = await expectFailures([`TLS smtp ${MX} [${IP}]`], portArg.replace(/smtp=\d+/, `smtp=${remote.port}`));
    assert.match(r.get(`TLS smtp ${MX} [${IP}]`)!.found, /EHLO does not offer STARTTLS/);

    const tlsChecks = ["smtp", "submissions", "submission", "imaps"].map((s) => `TLS ${s} ${MX} [${IP}]`);
    for (const [kind, found, fix] of [
      ["wrong-name", /the certificate names DNS:wrong-name\.invalid, not mx\.doctor\.test/, /subjectAltName includes mx\.doctor\.test/],
      ["expired", /the certificate expired 1 day ago/, /renew the certificate for mx\.doctor\.test/],
    ] as const) {
      await stack.stopRelay();
      await useRelayCertificate(kind);
      await stack.startRelay();
      r = await expectFailures(tlsChecks);
      for (const check of tlsChecks) {
        assert.match(r.get(check)!.found, found, check);
        assert.match(r.get(check)!.fix!, fix, check);
      }
    }
  });

  it("answers a port that says nothing with a failed check within the timeout, not a hang", async () => {
    // The remote MX's listener with a greeting that never comes.
    remote.setBehaviour(MX, { greeting: () => new Promise(() => {}) });
    const started = Date.now();
    const { code, stdout } = await edgemail(
      ["doctor", DOMAIN, "--resolver", zone.server, "--ca", caFile, "--port", portArg.replace(/smtp=\d+/, `smtp=${remote.port}`), "--timeout", "1s", "--json"],
      env,
    );
    assert.equal(code, 1);
    const smtp = (JSON.parse(stdout) as Check[]).find((c) => c.check === `TLS smtp ${MX} [${IP}]`)!;
    assert.match(smtp.found, /greeting failed: no answer within 1 s/);
    assert.match(smtp.fix!, /TCP port \d+ on 127\.0\.0\.1 is open/);
    assert.ok(Date.now() - started < 10_000);
  });
});
