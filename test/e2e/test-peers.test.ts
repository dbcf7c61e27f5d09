/**
 * The peers the outbound-delivery tests stand on — local DNS (unbound, with DNSSEC), remote MX
 * hosts and an MTA-STS policy host — checked with ordinary clients, so that a failing delivery
 * test points at the relay and not at its scaffolding.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { promises as dns } from "node:dns";
import { once } from "node:events";
import { get } from "node:https";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import dnsPacket from "dns-packet";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { dnsQuery, startDnsZone, type DnsZone, type ZoneRecord } from "../support/dns-zone.ts";
import { startPolicyServer, type PolicyServer } from "../support/https-policy.ts";
import { startRemoteMxs, type RemoteMxs } from "../support/remote-mx.ts";
import { createTestCa, type TestCa } from "../support/test-ca.ts";

// A DKIM-like TXT: longer than one 255-byte character-string, with a quote and a backslash.
const LONG_TXT = `v=DKIM1; k=rsa; n="quoted\\"; p=${"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".repeat(10)}`.slice(0, 400);
const TLSA_HEX = "5a".repeat(32);

const RECORDS: ZoneRecord[] = [
  { name: "example.net", type: "MX", preference: 10, exchange: "mx1.example.net" },
  { name: "mx1.example.net", type: "A", address: "127.0.0.2" },
  { name: "mx1.example.net", type: "AAAA", address: "::1" },
  { name: "selector._domainkey.example.net", type: "TXT", text: LONG_TXT },
  { name: "_mta-sts.example.net", type: "TXT", text: "v=STSv1; id=20261124" },
  { name: "_25._tcp.mx1.example.net", type: "TLSA", usage: 3, selector: 1, matchingType: 1, data: TLSA_HEX },
  { name: "nomail.example.org", type: "MX", preference: 0, exchange: "." },
  { name: "www.example.org", type: "CNAME", target: "mx1.example.net" },
  { name: "secure.example.com", type: "MX", preference: 10, exchange: "mx.secure.example.com" },
  { name: "mx.secure.example.com", type: "A", address: "127.0.0.3" },
  { name: "_25._tcp.mx.secure.example.com", type: "TLSA", usage: 3, selector: 1, matchingType: 1, data: TLSA_HEX },
  { name: "_25._tcp.mx.broken.example", type: "TLSA", usage: 3, selector: 1, matchingType: 1, data: TLSA_HEX },
];

// Node 24 adds a `type` field to each MX record.
const mxOf = (records: { exchange: string; priority: number }[]) => records.map(({ exchange, priority }) => ({ exchange, priority }));

/** The query the relay's DANE lookup makes: RD + AD, EDNS with DO, over UDP. */
async function tlsaQuery(server: string, name: string): Promise<dnsPacket.DecodedPacket & { rcode?: string }> {
  return await dnsQuery(server, name, "TLSA");
}

function smtpClient(ip: string, port: number, opts: Partial<SMTPConnection.Options> = {}): SMTPConnection {
  return new SMTPConnection({ host: ip, port, name: "relay.edgemail.test", connectionTimeout: 5_000, ...opts });
}

async function open(client: SMTPConnection): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    client.once("error", reject);
    client.connect((err) => (err ? reject(err) : resolve()));
  });
}

async function send(client: SMTPConnection, from: string, to: string[], body: string): Promise<SMTPConnection.SentMessageInfo> {
  return await new Promise((resolve, reject) => {
    client.send({ from, to }, body, (err, info) => (err ? reject(err) : resolve(info!)));
  });
}

/** Connects, sends one message, quits; the error of any step rejects. */
async function deliver(ip: string, port: number, to: string[], opts: Partial<SMTPConnection.Options> = {}) {
  const client = smtpClient(ip, port, opts);
  try {
    await open(client);
    return await send(client, "sender@edgemail.test", to, "Subject: hello\r\n\r\nHi.\r\n");
  } finally {
    client.close();
  }
}

/** A bare SMTP conversation, for what nodemailer hides: the greeting, EHLO, the certificate. */
function rawSmtp(ip: string, port: number) {
  const socket: Socket = connect(port, ip);
  let buffer = "";
  socket.on("data", (chunk: Buffer) => (buffer += chunk.toString("latin1")));
  const reply = async (): Promise<string> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (socket.destroyed || Date.now() > deadline) throw new Error(`no SMTP reply; pending: ${JSON.stringify(buffer)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return await reply();
  };
  return { socket, reply, command };
}

async function rawGreetingAndEhlo(ip: string, port: number): Promise<{ greeting: string; ehlo: string }> {
  const smtp = rawSmtp(ip, port);
  try {
    return { greeting: await smtp.reply(), ehlo: await smtp.command("EHLO probe.example") };
  } finally {
    smtp.socket.destroy();
  }
}

/** The DER certificate a host presents after STARTTLS, unverified. */
async function presentedCertificate(ip: string, port: number, servername: string): Promise<Buffer> {
  const smtp = rawSmtp(ip, port);
  try {
    await smtp.reply();
    await smtp.command("EHLO probe.example");
    assert.match(await smtp.command("STARTTLS"), /^220 /);
    smtp.socket.removeAllListeners("data");
    const secure = tlsConnect({ socket: smtp.socket, servername, rejectUnauthorized: false });
    await once(secure, "secureConnect");
    const der = secure.getPeerCertificate().raw;
    secure.destroy();
    return der;
  } finally {
    smtp.socket.destroy();
  }
}

async function httpsGet(ip: string, port: number, host: string, ca: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = get({ host: ip, port, path: "/.well-known/mta-sts.txt", servername: host, headers: { host }, ca: [ca], agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

describe("test peers", () => {
  let ca: TestCa;
  let zone: DnsZone;
  let mxs: RemoteMxs;
  let policy: PolicyServer;
  let resolver: dns.Resolver;
  const timings: Record<string, number> = {};

  before(async () => {
    let t = performance.now();
    ca = await createTestCa();
    timings.ca = performance.now() - t;
    t = performance.now();
    zone = await startDnsZone(RECORDS, { signedZones: ["secure.example.com"], bogusZones: ["broken.example"] });
    timings.dns = performance.now() - t;
    t = performance.now();
    mxs = await startRemoteMxs(
      [
        { ip: "127.0.0.2", name: "mx1.example.net", tls: "none" },
        { ip: "127.0.0.3", name: "mx.secure.example.com", tls: "trusted" },
        { ip: "127.0.0.4", name: "mx.selfsigned.example", tls: "self-signed" },
        { ip: "127.0.0.5", name: "mx.wrongname.example", tls: "trusted-wrong-name" },
        { ip: "127.0.0.6", name: "mx.expired.example", tls: "expired" },
      ],
      { ca },
    );
    timings.mx = performance.now() - t;
    t = performance.now();
    policy = await startPolicyServer({ ip: "127.0.0.7", ca });
    timings.policy = performance.now() - t;
    resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([zone.server]);
  });
  after(async () => {
    await Promise.all([zone?.stop(), mxs?.stop(), policy?.stop()]);
    // Startup costs, so a slow suite can be traced to its scaffolding.
    console.log(`test peers startup (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  describe("DNS (unbound)", () => {
    it("answers A, AAAA, MX, CNAME and TLSA from the zone", async () => {
      assert.deepEqual(await resolver.resolve4("mx1.example.net"), ["127.0.0.2"]);
      assert.deepEqual(await resolver.resolve6("mx1.example.net"), ["::1"]);
      assert.deepEqual(mxOf(await resolver.resolveMx("example.net")), [{ exchange: "mx1.example.net", priority: 10 }]);
      assert.deepEqual(await resolver.resolve4("www.example.org"), ["127.0.0.2"]);
      const tlsa = await resolver.resolveTlsa("_25._tcp.mx1.example.net");
      assert.equal(tlsa.length, 1);
      assert.deepEqual([tlsa[0]!.certUsage, tlsa[0]!.selector, tlsa[0]!.match], [3, 1, 1]);
      assert.equal(Buffer.from(tlsa[0]!.data).toString("hex"), TLSA_HEX);
    });

    it("serves a null MX (RFC 7505) as preference 0, exchange root", async () => {
      assert.deepEqual(mxOf(await resolver.resolveMx("nomail.example.org")), [{ exchange: "", priority: 0 }]);
    });

    it("hands a TXT longer than 255 bytes back intact once its chunks are joined", async () => {
      const txt = await resolver.resolveTxt("selector._domainkey.example.net");
      assert.equal(txt.length, 1);
      assert.ok(txt[0]!.length >= 2, "split into several character-strings");
      assert.ok(txt[0]!.every((s) => Buffer.byteLength(s) <= 255));
      assert.equal(txt[0]!.join(""), LONG_TXT);
      assert.equal(LONG_TXT.length, 400);
      assert.deepEqual(await resolver.resolveTxt("_mta-sts.example.net"), [["v=STSv1; id=20261124"]]);
    });

    it("answers NXDOMAIN at once for names outside the zones, NODATA for missing types", async () => {
      for (const name of ["nothing.example", "www.google.com", "missing.example.net"]) {
        const t = performance.now();
        await assert.rejects(resolver.resolve4(name), { code: "ENOTFOUND" });
        assert.ok(performance.now() - t < 500, `${name} answered in ${performance.now() - t} ms`);
      }
      await assert.rejects(resolver.resolveMx("mx1.example.net"), { code: "ENODATA" });
      assert.equal((await dnsQuery(zone.server, "nothing.example", "A")).rcode, "NXDOMAIN");
    });

    it("sets AD on a TLSA answer from a signed zone, and only there", async () => {
      const signed = await tlsaQuery(zone.server, "_25._tcp.mx.secure.example.com");
      assert.equal(signed.rcode, "NOERROR");
      assert.equal(signed.flag_ad, true);
      const answer = signed.answers?.find((a) => a.type === "TLSA");
      assert.ok(answer && answer.type === "TLSA");
      assert.equal(answer.data.certificate.toString("hex"), TLSA_HEX);

      const unsigned = await tlsaQuery(zone.server, "_25._tcp.mx1.example.net");
      assert.equal(unsigned.rcode, "NOERROR");
      assert.equal(unsigned.flag_ad, false);
      assert.ok(unsigned.answers?.some((a) => a.type === "TLSA"));

      // Authenticated denial: no TLSA in the signed zone is still a validated answer.
      const denied = await tlsaQuery(zone.server, "_25._tcp.nothing.secure.example.com");
      assert.equal(denied.rcode, "NXDOMAIN");
      assert.equal(denied.flag_ad, true);

      // Without DO and AD in the query, the resolver does not claim authenticity.
      assert.equal((await dnsQuery(zone.server, "mx.secure.example.com", "A", { dnssec: false })).flag_ad, false);
    });

    it("answers SERVFAIL for a zone whose signatures do not validate", async () => {
      assert.equal((await tlsaQuery(zone.server, "_25._tcp.mx.broken.example")).rcode, "SERVFAIL");
    });

    it("update() replaces the records on the same port", async () => {
      const t = performance.now();
      await zone.update([...RECORDS.filter((r) => r.name !== "mx1.example.net"), { name: "mx1.example.net", type: "A", address: "127.0.0.9" }]);
      timings.update = performance.now() - t;
      assert.deepEqual(await resolver.resolve4("mx1.example.net"), ["127.0.0.9"]);
      await assert.rejects(resolver.resolve6("mx1.example.net"), { code: "ENODATA" });
      assert.equal((await tlsaQuery(zone.server, "_25._tcp.mx.secure.example.com")).flag_ad, true, "still signed and trusted");
      await zone.update(RECORDS);
      assert.deepEqual(await resolver.resolve4("mx1.example.net"), ["127.0.0.2"]);
      // Bad data is refused before the running resolver is touched.
      await assert.rejects(zone.update([{ name: "not a name", type: "A", address: "127.0.0.1" }]), /not a usable DNS name/);
      await assert.rejects(zone.update([{ name: "example.net", type: "CNAME", target: "x.example" }]), /zone apex/);
      assert.deepEqual(await resolver.resolve4("mx1.example.net"), ["127.0.0.2"]);
    });
  });

  describe("remote MXs", () => {
    it("listen on one port, each on its own address under its own name", async () => {
      const plain = await rawGreetingAndEhlo("127.0.0.2", mxs.port);
      assert.match(plain.greeting, /^220 mx1\.example\.net ESMTP/);
      for (const ext of ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE \\d+"]) {
        assert.match(plain.ehlo, new RegExp(`^250[- ]${ext}\\r?$`, "m"));
      }
      assert.doesNotMatch(plain.ehlo, /STARTTLS|AUTH/);
      const tls = await rawGreetingAndEhlo("127.0.0.3", mxs.port);
      assert.match(tls.greeting, /^220 mx\.secure\.example\.com /);
      assert.match(tls.ehlo, /^250[- ]STARTTLS\r?$/m);
    });

    it("accept a message in plain text from a host without TLS", async () => {
      const before = mxs.received.length;
      const info = await deliver("127.0.0.2", mxs.port, ["alice@example.net", "bob@example.net"]);
      assert.deepEqual(info.accepted, ["alice@example.net", "bob@example.net"]);
      const [message] = (await mxs.waitForMessages(before + 1, 2_000)).slice(before);
      assert.ok(message);
      assert.equal(message.host, "mx1.example.net");
      assert.equal(message.ip, "127.0.0.2");
      assert.equal(message.helo, "relay.edgemail.test");
      assert.equal(message.mailFrom, "sender@edgemail.test");
      assert.deepEqual(message.rcptTo, ["alice@example.net", "bob@example.net"]);
      assert.equal(message.secure, false);
      assert.equal(message.raw.toString(), "Subject: hello\r\n\r\nHi.\r\n");
    });

    it("accept STARTTLS verified against the test CA on a trusted host, with SNI recorded", async () => {
      const before = mxs.received.length;
      const name = "mx.secure.example.com";
      await deliver("127.0.0.3", mxs.port, ["carol@secure.example.com"], { requireTLS: true, tls: { ca: [ca.cert], servername: name } });
      const [message] = (await mxs.waitForMessages(before + 1, 2_000)).slice(before);
      assert.equal(message?.secure, true);
      assert.equal(message?.servername, name);
    });

    it("tell which certificate each host presents (the data behind a TLSA record)", async () => {
      for (const [ip, name, san] of [
        ["127.0.0.3", "mx.secure.example.com", "DNS:mx.secure.example.com"],
        ["127.0.0.4", "mx.selfsigned.example", "DNS:mx.selfsigned.example"],
        ["127.0.0.5", "mx.wrongname.example", "DNS:wrong-name.invalid"],
      ] as const) {
        const pem = mxs.certificateOf(name);
        assert.deepEqual(await presentedCertificate(ip, mxs.port, name), new X509Certificate(pem).raw);
        assert.equal(new X509Certificate(pem).subjectAltName, san);
      }
      assert.throws(() => mxs.certificateOf("mx1.example.net"), /no TLS/);
    });

    it("fail verification for self-signed, wrong-name and expired certificates", async () => {
      const cases = [
        ["127.0.0.4", "mx.selfsigned.example", /self[- ]signed/i],
        ["127.0.0.5", "mx.wrongname.example", /altname|does not match|Hostname\/IP/i],
        ["127.0.0.6", "mx.expired.example", /expired/i],
      ] as const;
      for (const [ip, servername, reason] of cases) {
        await assert.rejects(deliver(ip, mxs.port, ["x@example.com"], { requireTLS: true, tls: { ca: [ca.cert], servername } }), reason);
        // Without verification the same host still takes the message over TLS.
        await deliver(ip, mxs.port, ["x@example.com"], { requireTLS: true, tls: { rejectUnauthorized: false, servername } });
      }
      assert.ok(mxs.received.filter((m) => m.ip === "127.0.0.6").every((m) => m.secure));
    });

    it("answer 450/550 per recipient and 451 at the end of DATA as told, with the given enhanced codes", async () => {
      mxs.setBehaviour("mx1.example.net", {
        rcpt: (address) =>
          address.startsWith("busy@") ? { code: 450, message: "4.2.1 mailbox busy" } : address.startsWith("gone@") ? { code: 550, message: "no such user" } : undefined,
      });
      const before = mxs.received.length;
      const info = await deliver("127.0.0.2", mxs.port, ["busy@example.net", "gone@example.net", "ok@example.net"]);
      assert.deepEqual(info.accepted, ["ok@example.net"]);
      assert.deepEqual(info.rejected.sort(), ["busy@example.net", "gone@example.net"]);
      const responses = (info.rejectedErrors ?? []).map((e) => e.response).sort();
      assert.deepEqual(responses, ["450 4.2.1 mailbox busy", "550 5.1.1 no such user"]);
      assert.deepEqual(mxs.received.at(-1)?.rcptTo, ["ok@example.net"]);
      assert.equal(mxs.received.length, before + 1);

      mxs.setBehaviour("mx1.example.net", { data: () => ({ code: 451, message: "4.3.0 try again later" }) });
      await assert.rejects(deliver("127.0.0.2", mxs.port, ["ok@example.net"]), (err: { responseCode?: number; response?: string }) => {
        assert.equal(err.responseCode, 451);
        assert.equal(err.response, "451 4.3.0 try again later");
        return true;
      });
      assert.equal(mxs.received.length, before + 1, "a refused message is not in received");
      assert.deepEqual(mxs.refused.at(-1)?.rcptTo, ["ok@example.net"]);

      mxs.setBehaviour("mx1.example.net", { greeting: () => ({ code: 554, message: "no service here" }) });
      await assert.rejects(deliver("127.0.0.2", mxs.port, ["ok@example.net"]), /554 no service here/);

      // Hooks may be async; a 2xx at DATA sets the text of the 250.
      mxs.setBehaviour("mx1.example.net", {
        data: async () => {
          await new Promise((r) => setTimeout(r, 20));
          return { code: 250, message: "2.0.0 Ok: queued as ABC123" };
        },
      });
      assert.equal((await deliver("127.0.0.2", mxs.port, ["ok@example.net"])).response, "250 2.0.0 Ok: queued as ABC123");
      assert.equal(mxs.received.length, before + 2);

      mxs.setBehaviour("mx1.example.net", {});
      assert.match((await deliver("127.0.0.2", mxs.port, ["ok@example.net"])).response, /^250 2\.6\.0 /);
      assert.equal(mxs.received.length, before + 3);
    });

    it("count connections per host", async () => {
      const before = mxs.connectionsFor("mx1.example.net");
      const other = mxs.connectionsFor("mx.secure.example.com");
      await deliver("127.0.0.2", mxs.port, ["ok@example.net"]);
      await deliver("127.0.0.2", mxs.port, ["ok@example.net"]);
      assert.equal(mxs.connectionsFor("mx1.example.net"), before + 2);
      assert.equal(mxs.connectionsFor("mx.secure.example.com"), other);
    });

    it("time out waitForMessages when nothing arrives", async () => {
      await assert.rejects(mxs.waitForMessages(mxs.received.length + 1, 50), /waited 50 ms/);
    });
  });

  describe("MTA-STS policy host", () => {
    const POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\nmax_age: 86400\r\n";

    it("serves the policy over HTTPS verifiable with the test CA, chosen by Host", async () => {
      await policy.setPolicy("example.net", POLICY);
      await policy.setPolicy("example.org", null);
      const res = await httpsGet("127.0.0.7", policy.port, "mta-sts.example.net", ca.cert);
      assert.deepEqual(res, { status: 200, body: POLICY });
      assert.equal((await httpsGet("127.0.0.7", policy.port, "mta-sts.example.org", ca.cert)).status, 404);
      assert.equal(policy.fetches("example.net"), 1);
      assert.equal(policy.fetches("example.org"), 1);
    });

    it("presents a self-signed, expired or wrong-name certificate when told to", async () => {
      await policy.setPolicy("selfsigned.example", POLICY, "self-signed");
      await policy.setPolicy("expired.example", POLICY, "expired");
      await policy.setPolicy("wrongname.example", POLICY, "wrong-name");
      await assert.rejects(httpsGet("127.0.0.7", policy.port, "mta-sts.selfsigned.example", ca.cert), /self[- ]signed/i);
      await assert.rejects(httpsGet("127.0.0.7", policy.port, "mta-sts.expired.example", ca.cert), /expired/i);
      await assert.rejects(httpsGet("127.0.0.7", policy.port, "mta-sts.wrongname.example", ca.cert), /altname|does not match|Hostname\/IP/i);
      await assert.rejects(httpsGet("127.0.0.7", policy.port, "mta-sts.unknown.example", ca.cert), /altname|does not match|Hostname\/IP/i);
    });

    it("answers a custom status when asked", async () => {
      await policy.setPolicy("redirect.example", { status: 302, headers: { location: "https://elsewhere.example/" } });
      assert.equal((await httpsGet("127.0.0.7", policy.port, "mta-sts.redirect.example", ca.cert)).status, 302);
    });
  });
});

describe("test peers shut down", () => {
  let zone: DnsZone | undefined;
  let mxs: RemoteMxs | undefined;
  let policy: PolicyServer | undefined;
  let idle: SMTPConnection | undefined;
  // Only for a failure half-way: stop() is safe to call again.
  after(async () => {
    idle?.close();
    await Promise.all([zone?.stop(), mxs?.stop(), policy?.stop()]);
  });

  it("stop() releases the DNS port, the MX port and the policy port, even with a session open", async () => {
    const ca = await createTestCa();
    zone = await startDnsZone([{ name: "a.example", type: "A", address: "127.0.0.1" }]);
    mxs = await startRemoteMxs([{ ip: "127.0.0.2", name: "a.example", tls: "trusted" }], { ca });
    policy = await startPolicyServer({ ip: "127.0.0.2", ca });
    idle = smtpClient("127.0.0.2", mxs.port, { requireTLS: true, tls: { ca: [ca.cert], servername: "a.example" } });
    await open(idle);
    const t = performance.now();
    await Promise.all([zone.stop(), mxs.stop(), policy.stop(), zone.stop()]);
    assert.ok(performance.now() - t < 1_000, `stop() took ${performance.now() - t} ms`);
    await assert.rejects(dnsQuery(zone.server, "a.example", "A", { timeoutMs: 300 }));
    for (const port of [mxs.port, policy.port]) {
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          const s = connect(port, "127.0.0.2", () => {
            s.destroy();
            resolve();
          });
          s.once("error", reject);
        }),
        { code: "ECONNREFUSED" },
      );
    }
  });
});
