/**
 * Outbound delivery end to end: nodemailer submits on 587/465, the edge queues, the relay leases
 * and delivers to remote MXs played by smtp-server on 127.0.0.x, with DNS from a local unbound
 * zone (MX, A, TXT for DKIM and `_mta-sts`, DNSSEC-signed TLSA for DANE) and MTA-STS policies
 * from a local HTTPS host, all certificates from a test CA the relay is told to trust.
 *
 * Checked at the remote MXs (what arrived, over which TLS) and at the edge (DSNs in the sender's
 * INBOX, TLS results kept for TLS-RPT). The edge's test clock drives the retry schedule.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { promises as dnsPromises } from "node:dns";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import nodemailer from "nodemailer";
import type { DeliveryReport, DkimPublicKeys, OutboundJob, RecipientOutcome, StoredTlsResult, TlsResultList } from "../../common/contract.ts";
import { parseConfig } from "../../relay/config.ts";
import { startRelay, type RunningRelay } from "../../relay/relay.ts";
import { connectImap } from "../support/imap-client.ts";
import { startDnsZone, type DnsZone, type ZoneRecord } from "../support/dns-zone.ts";
import { startPolicyServer, type PolicyServer } from "../support/https-policy.ts";
import { startRemoteMxs, type ReceivedMessage, type RemoteMxHost, type RemoteMxs } from "../support/remote-mx.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const POLICY_IP = "127.0.0.20";
const MINUTE = 60_000;

const HOSTS: RemoteMxHost[] = [
  { ip: "127.0.0.2", name: "mx.plain.example", tls: "none" },
  { ip: "127.0.0.3", name: "mx.trusted.example", tls: "trusted" },
  { ip: "127.0.0.4", name: "mx.badcert.example", tls: "self-signed" },
  { ip: "127.0.0.5", name: "mx.elsewhere.example", tls: "trusted" },
  { ip: "127.0.0.6", name: "mx.tempfail.example", tls: "none" },
  { ip: "127.0.0.7", name: "mx.permfail.example", tls: "none" },
  { ip: "127.0.0.8", name: "mx.dane.example", tls: "self-signed" },
  { ip: "127.0.0.9", name: "mx.danebad.example", tls: "self-signed" },
  { ip: "127.0.0.10", name: "mx.multi.example", tls: "none" },
  { ip: "127.0.0.11", name: "mx.stall.example", tls: "none" },
  { ip: "127.0.0.12", name: "mx.testing.example", tls: "self-signed" },
];

const policy = (mode: string, mx: string) => `version: STSv1\r\nmode: ${mode}\r\nmx: ${mx}\r\nmax_age: 86400\r\n`;

describe("outbound delivery", () => {
  let stack: Stack;
  let zone: DnsZone;
  let mxs: RemoteMxs;
  let policies: PolicyServer;
  let demo: { address: string; password: string };
  let baseRecords: ZoneRecord[];
  let clock = 0;
  const extraRelays: RunningRelay[] = [];

  before(async () => {
    mxs = await startRemoteMxs(HOSTS);
    policies = await startPolicyServer({ ip: POLICY_IP, ca: mxs.ca });
    await policies.setPolicy("trusted.example", policy("enforce", "mx.trusted.example"));
    await policies.setPolicy("badcert.example", policy("enforce", "mx.badcert.example"));
    await policies.setPolicy("sts-mismatch.example", policy("enforce", "mx.sts-mismatch.example"));
    await policies.setPolicy("testing.example", policy("testing", "mx.testing.example"));

    baseRecords = [];
    for (const host of HOSTS) {
      const domain = host.name.replace(/^mx\./, "");
      baseRecords.push({ name: host.name, type: "A", address: host.ip });
      if (domain !== "elsewhere.example") baseRecords.push({ name: domain, type: "MX", preference: 10, exchange: host.name });
    }
    baseRecords.push({ name: "sts-mismatch.example", type: "MX", preference: 10, exchange: "mx.elsewhere.example" });
    baseRecords.push({ name: "nullmx.example", type: "MX", preference: 0, exchange: "." });
    for (const domain of ["trusted.example", "badcert.example", "sts-mismatch.example", "testing.example"]) {
      baseRecords.push({ name: `_mta-sts.${domain}`, type: "TXT", text: "v=STSv1; id=20261124T000000Z" });
      baseRecords.push({ name: `mta-sts.${domain}`, type: "A", address: POLICY_IP });
    }
    baseRecords.push(tlsa("_25._tcp.mx.dane.example", spkiSha256(mxs.certificateOf("mx.dane.example"))));
    baseRecords.push(tlsa("_25._tcp.mx.danebad.example", "00".repeat(32)));
    zone = await startDnsZone(baseRecords, { signedZones: ["dane.example", "danebad.example"] });

    const caFile = join(ROOT, ".tsbuild", `test-ca-${process.pid}.pem`);
    await writeFile(caFile, mxs.ca.cert);
    stack = await startTestStack({
      allowFaultInjection: true,
      dnsServers: [zone.server],
      delivery: {
        smtpPort: mxs.port,
        mtaStsPort: policies.port,
        extraCaFiles: [caFile],
        pollIntervalMs: 200,
        leaseSeconds: 30,
        connectTimeoutMs: 5_000,
        commandTimeoutMs: 10_000,
      },
    });
    demo = stack.settings().demo;

    // The DKIM keys exist once the domain does; publish them in the zone as an operator would.
    const keys = (await stack.admin("GET", "/domains/edgemail.test/dkim")).json as DkimPublicKeys;
    assert.equal(keys.keys.length, 2);
    await zone.update([...baseRecords, ...keys.keys.map((k): ZoneRecord => ({ name: k.dnsName, type: "TXT", text: k.dnsValue }))], {
      signedZones: ["dane.example", "danebad.example"],
    });
  });

  after(async () => {
    for (const relay of extraRelays) await relay.stop();
    await stack?.cleanup();
    await zone?.stop();
    await policies?.stop();
    await mxs?.stop();
  });

  const transport = (port: number, secure: boolean) =>
    nodemailer.createTransport({
      host: "127.0.0.1",
      port,
      secure,
      requireTLS: !secure,
      auth: { user: demo.address, pass: demo.password },
      tls: { rejectUnauthorized: false },
      logger: false,
    });

  async function submit(to: string, subject: string, extra: { port?: "465" | "587"; raw?: string } = {}): Promise<string> {
    const port = extra.port === "465" ? stack.relay!.ports.submissions! : stack.relay!.ports.submission!;
    const t = transport(port, extra.port === "465");
    try {
      const info = extra.raw
        ? await t.sendMail({ envelope: { from: demo.address, to: [to] }, raw: extra.raw })
        : await t.sendMail({ from: `Demo <${demo.address}>`, to, subject, text: `Body of ${subject}.\n` });
      assert.match(info.response, /^250 2\.0\.0 Queued as /);
      return info.messageId;
    } finally {
      t.close();
    }
  }

  const fromHost = (name: string) => mxs.received.filter((m) => m.host === name);
  const worker = () => stack.relay!.delivery!;

  async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the outcome the relay reported for `recipient` (listen before submitting). */
  function reportFor(recipient: string): Promise<RecipientOutcome> {
    return new Promise((resolve) => {
      const listener = (_job: OutboundJob, report: DeliveryReport) => {
        const outcome = report.results.find((r) => r.recipient === recipient);
        if (!outcome) return;
        worker().off("reported", listener);
        resolve(outcome);
      };
      worker().on("reported", listener);
    });
  }

  async function tlsResults(domain: string): Promise<StoredTlsResult[]> {
    return ((await stack.admin("GET", `/tls-results?domain=${domain}`)).json as TlsResultList).results;
  }

  async function advanceClock(ms: number): Promise<void> {
    clock += ms;
    await stack.admin("POST", "/clock", { offsetMs: clock }, [204]);
  }

  async function bouncesFor(recipient: string): Promise<string[]> {
    const imap = await connectImap(stack);
    try {
      await imap.mailboxOpen("INBOX");
      const found: string[] = [];
      for await (const m of imap.fetch("1:*", { envelope: true, source: true })) {
        const source = m.source?.toString("utf8") ?? "";
        if (m.envelope?.subject === "Undelivered Mail Returned to Sender" && source.includes(recipient)) found.push(source);
      }
      return found;
    } finally {
      await imap.logout();
    }
  }

  it("587 and 465: delivered over verified TLS (MTA-STS enforce), signed with RSA and ed25519 keys that verify as pass", async () => {
    const reports = [reportFor("alice@trusted.example"), reportFor("bob@trusted.example")];
    const id587 = await submit("alice@trusted.example", "over 587");
    const id465 = await submit("bob@trusted.example", "over 465", { port: "465" });
    await until("both at mx.trusted.example", () => fromHost("mx.trusted.example").length === 2);
    const [first, second] = fromHost("mx.trusted.example") as [ReceivedMessage, ReceivedMessage];
    const byId = new Map([first, second].map((m) => [messageIdOf(m.raw), m]));
    assert.deepEqual(byId.get(id587)?.rcptTo, ["alice@trusted.example"]);
    assert.deepEqual(byId.get(id465)?.rcptTo, ["bob@trusted.example"]);
    for (const m of [first, second]) {
      assert.equal(m.secure, true);
      assert.equal(m.servername, "mx.trusted.example");
      assert.equal(m.helo, "mx.edgemail.test");
      assert.equal(m.mailFrom, demo.address);
      const resolver = new dnsPromises.Resolver();
      resolver.setServers([zone.server]);
      const verdict = await dkimVerify(m.raw, {
        resolver: async (name: string, type: string) =>
          type === "TXT" ? resolver.resolveTxt(name) : ((await resolver.resolve(name, type)) as string[]),
      });
      const results = verdict.results.map((r) => `${r.status.result} ${r.signingDomain} ${r.algo}`).sort();
      assert.deepEqual(results, ["pass edgemail.test ed25519-sha256", "pass edgemail.test rsa-sha256"]);
      // From is oversigned: listed once more than present, so a second From breaks the signature.
      const header = m.raw.toString("latin1", 0, m.raw.indexOf("\r\n\r\n"));
      const h = /DKIM-Signature:[^]*?h=([^;]+);/i.exec(header)?.[1]?.replace(/\s+/g, "") ?? "";
      assert.equal(h.toLowerCase().split(":").filter((f) => f === "from").length, 2, h);
    }
    for (const report of reports) assert.equal((await report).outcome, "delivered");
    const tls = await tlsResults("trusted.example");
    assert.ok(tls.some((r) => r.policyType === "sts" && r.result === "success" && r.mxHost === "mx.trusted.example"));
  });

  it("no STARTTLS offered and no policy: delivered in plaintext; 8-bit headers and body arrive byte for byte", async () => {
    const raw =
      `From: Demo <${demo.address}>\r\nTo: carol@plain.example\r\nSubject: Grüße aus Köln\r\n` +
      `Message-ID: <eightbit@edgemail.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: 8bit\r\n\r\nÄpfel und Birnen — 8bit.\r\n`;
    await submit("carol@plain.example", "8bit", { raw });
    await until("a message at mx.plain.example", () => fromHost("mx.plain.example").length === 1);
    const [m] = fromHost("mx.plain.example") as [ReceivedMessage];
    assert.equal(m.secure, false);
    assert.equal(m.mailParams.BODY, "8BITMIME");
    assert.ok(m.raw.subarray(m.raw.length - Buffer.byteLength(raw)).equals(Buffer.from(raw)), "the submitted octets end the delivered message");
  });

  it("an internationalized recipient goes out with SMTPUTF8", async () => {
    await submit("jörg@plain.example", "utf8 address");
    await until("the SMTPUTF8 message", () => fromHost("mx.plain.example").some((m) => m.rcptTo.includes("jörg@plain.example")));
    const m = fromHost("mx.plain.example").find((r) => r.rcptTo.includes("jörg@plain.example"))!;
    assert.equal(m.mailParams.SMTPUTF8, true);
  });

  it("MTA-STS enforce, MX not in the policy: nothing is sent there, the job is deferred and the failure kept for TLS-RPT", async () => {
    const outcome = reportFor("dave@sts-mismatch.example");
    await submit("dave@sts-mismatch.example", "mismatch");
    assert.equal((await outcome).outcome, "deferred");
    assert.equal(mxs.connectionsFor("mx.elsewhere.example"), 0);
    const tls = await tlsResults("sts-mismatch.example");
    assert.ok(tls.some((r) => r.result === "validation-failure" && r.mxHost === "mx.elsewhere.example"), JSON.stringify(tls));
    assert.deepEqual(await bouncesFor("dave@sts-mismatch.example"), []);
  });

  it("MTA-STS enforce, certificate not trusted: the connection ends after the handshake, nothing in clear, deferred", async () => {
    const outcome = reportFor("erin@badcert.example");
    await submit("erin@badcert.example", "badcert");
    assert.equal((await outcome).outcome, "deferred");
    assert.ok(mxs.connectionsFor("mx.badcert.example") >= 1);
    assert.equal(fromHost("mx.badcert.example").length, 0);
    const tls = await tlsResults("badcert.example");
    assert.ok(tls.some((r) => r.result === "certificate-not-trusted" && r.policyType === "sts"), JSON.stringify(tls));
  });

  it("MTA-STS testing, certificate not trusted: delivered anyway, the failure recorded", async () => {
    await submit("fay@testing.example", "testing mode");
    await until("a message at mx.testing.example", () => fromHost("mx.testing.example").length === 1);
    await until("a TLS result for testing.example", async () => (await tlsResults("testing.example")).length > 0);
    const tls = await tlsResults("testing.example");
    assert.ok(tls.some((r) => r.result === "certificate-not-trusted" && r.policyType === "sts"), JSON.stringify(tls));
  });

  it("DANE: a DNSSEC-validated TLSA record authenticates a self-signed MX; a mismatching one defers", async () => {
    const report = reportFor("gus@dane.example");
    await submit("gus@dane.example", "dane");
    await until("a message at mx.dane.example", () => fromHost("mx.dane.example").length === 1);
    assert.equal(fromHost("mx.dane.example")[0]!.secure, true);
    assert.equal((await report).outcome, "delivered");
    assert.ok((await tlsResults("dane.example")).some((r) => r.policyType === "tlsa" && r.result === "success"));

    const outcome = reportFor("hal@danebad.example");
    await submit("hal@danebad.example", "dane mismatch");
    assert.equal((await outcome).outcome, "deferred");
    assert.equal(fromHost("mx.danebad.example").length, 0);
    assert.ok((await tlsResults("danebad.example")).some((r) => r.policyType === "tlsa" && r.result === "tlsa-invalid"));
  });

  it("null MX: bounced at once with 556 5.1.10, no connection anywhere", async () => {
    const connections = HOSTS.reduce((n, h) => n + mxs.connectionsFor(h.name), 0);
    await submit("ivy@nullmx.example", "null mx");
    await until("a DSN for the null MX", async () => (await bouncesFor("ivy@nullmx.example")).length === 1);
    const [dsn] = await bouncesFor("ivy@nullmx.example");
    assert.match(dsn!, /5\.1\.10/);
    assert.equal(HOSTS.reduce((n, h) => n + mxs.connectionsFor(h.name), 0), connections);
  });

  it("5xx at RCPT: exactly one DSN in the sender's INBOX, with the remote's reply", async () => {
    let rcpts = 0;
    mxs.setBehaviour("mx.permfail.example", {
      rcpt: () => {
        rcpts++;
        return { code: 550, message: "5.1.1 no such user here" };
      },
    });
    const outcome = reportFor("nobody@permfail.example");
    await submit("nobody@permfail.example", "permfail");
    assert.equal((await outcome).outcome, "failed");
    await until("the DSN", async () => (await bouncesFor("nobody@permfail.example")).length === 1);
    await advanceClock(10 * MINUTE);
    worker().kick();
    await new Promise((r) => setTimeout(r, 1_000));
    const dsns = await bouncesFor("nobody@permfail.example");
    assert.equal(dsns.length, 1);
    assert.match(dsns[0]!, /550 5\.1\.1 no such user here/);
    assert.equal(rcpts, 1, "a failed recipient is never tried again");
  });

  it("4xx at RCPT: deferred, not retried before its time, delivered once the edge's clock says it is due", async () => {
    let attempts = 0;
    mxs.setBehaviour("mx.tempfail.example", {
      rcpt: () => {
        attempts++;
        return { code: 450, message: "4.2.0 mailbox busy" };
      },
    });
    const outcome = reportFor("jo@tempfail.example");
    await submit("jo@tempfail.example", "tempfail");
    assert.equal((await outcome).outcome, "deferred");
    assert.equal(attempts, 1);
    worker().kick();
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(attempts, 1, "no retry before the backoff elapsed");

    mxs.setBehaviour("mx.tempfail.example", {});
    await advanceClock(6 * MINUTE);
    worker().kick();
    await until("the retried message", () => fromHost("mx.tempfail.example").length === 1);
    assert.deepEqual(await bouncesFor("jo@tempfail.example"), []);
  });

  it("two relays leasing from one edge deliver every message exactly once", async () => {
    const second = await startRelay(
      parseConfig({
        hostname: "relay2.edgemail.test",
        edge: { url: stack.edgeUrl, relayKey: stack.secrets.relayKey, timeoutMs: 5_000 },
        tls: stack.certificate,
        listen: { host: "127.0.0.1", mx: null, imaps: null, imap: null, submissions: null, submission: null },
        dnsServers: [zone.server],
        delivery: { ...stack.options.delivery, relayId: "relay-2" },
      }),
    );
    extraRelays.push(second);
    const count = 24;
    const t = transport(stack.relay!.ports.submission!, false);
    try {
      await Promise.all(
        Array.from({ length: count }, (_, i) => t.sendMail({ from: demo.address, to: `user${i}@multi.example`, subject: `multi ${i}`, text: "x" })),
      );
    } finally {
      t.close();
    }
    await until(`${count} messages at mx.multi.example`, () => fromHost("mx.multi.example").length >= count, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const got = fromHost("mx.multi.example");
    assert.equal(got.length, count);
    assert.equal(new Set(got.map((m) => messageIdOf(m.raw))).size, count);
    assert.ok(second.delivery!.stats.jobs > 0 || worker().stats.jobs > 0);
  });

  it("a relay killed mid-delivery: the job comes back after its lease and is delivered once", async () => {
    for (const relay of [stack.relay!, ...extraRelays]) await relay.delivery!.stop();
    let dataStarted!: () => void;
    const started = new Promise<void>((resolve) => (dataStarted = resolve));
    // The remote takes the message but never answers: the relay dies before any 250.
    mxs.setBehaviour("mx.stall.example", {
      data: () => {
        dataStarted();
        return new Promise(() => {});
      },
    });

    const configPath = join(ROOT, ".tsbuild", `relay-child-${process.pid}.json`);
    await writeFile(
      configPath,
      JSON.stringify({
        hostname: "child.edgemail.test",
        edge: { url: stack.edgeUrl, relayKey: stack.secrets.relayKey, timeoutMs: 5_000 },
        tls: stack.certificate,
        listen: { host: "127.0.0.1", mx: null, imaps: null, imap: null, submissions: null, submission: null },
        dnsServers: [zone.server],
        delivery: { ...stack.options.delivery, relayId: "child" },
      }),
    );
    const child = spawn(process.execPath, [join(ROOT, "relay/main.ts"), configPath], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      await submit("kim@stall.example", "stall");
      await started;
      child.kill("SIGKILL");
      await once(child, "exit");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    assert.equal(fromHost("mx.stall.example").length, 0);

    mxs.setBehaviour("mx.stall.example", {});
    worker().start();
    worker().kick();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fromHost("mx.stall.example").length, 0, "the lease still holds");
    await advanceClock(2 * MINUTE);
    worker().kick();
    await until("the message after the lease expired", () => fromHost("mx.stall.example").length === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(fromHost("mx.stall.example").length, 1);
  });
});

function tlsa(name: string, dataHex: string): ZoneRecord {
  return { name, type: "TLSA", usage: 3, selector: 1, matchingType: 1, data: dataHex };
}

function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

function messageIdOf(raw: Buffer): string {
  return /^Message-ID:\s*(<[^>]+>)/im.exec(raw.toString("latin1"))?.[1] ?? "";
}
