/**
 * The MX's abuse limits on the real stack, as raw SMTP transcripts from chosen loopback source
 * addresses (one 127.0.0.x per test, so per-IP state never leaks between tests), each limit set
 * small so it triggers: the reply code and enhanced code each limit documents, and that the
 * connection is gone after every 421. DNSBL through a local unbound zone: a listed client gets
 * 554 5.7.1 naming the zone, an unlisted one is accepted, a list that does not answer blocks
 * nothing.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../relay/config.ts";
import { createDnsbl, reverseIp } from "../../relay/smtp/dnsbl.ts";
import { EDGE_MAX_BLOB_BYTES, MAX_MESSAGE_BYTES_BOUND, mxLimits, smtpLimits } from "../../relay/smtp/limits.ts";
import { startDnsZone, type DnsZone } from "../support/dns-zone.ts";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const MESSAGE = "From: <x@remote.example>\r\nTo: <demo@edgemail.test>\r\nSubject: abuse limits\r\n\r\nHello.\r\n";

/** The connection was closed by the server: nothing more to read and the socket is gone. */
async function assertClosed(client: SmtpTranscript): Promise<void> {
  await assert.rejects(client.reply(5_000), /connection closed/);
}

async function open(stack: Stack, from: string): Promise<SmtpTranscript> {
  const { client, greeting } = await SmtpTranscript.open(stack.relay!.ports.mx!, from);
  assert.match(greeting, /^220 mx\.edgemail\.test /);
  return client;
}

/** Waits until `check` holds (the relay counts a closed connection down a tick after the close). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("MX abuse limits", () => {
  let zone: DnsZone;
  let stack: Stack;
  const limits = {
    maxConnectionsPerIp: 2,
    maxMessagesPerConnection: 2,
    maxCommandsWithoutMail: 5,
    maxUnknownRecipients: 2,
    greetingDelayMs: 600,
  };

  before(async () => {
    // Every lookup the relay makes (SPF/DKIM/DMARC at DATA) stays on this machine.
    zone = await startDnsZone([{ name: "unrelated.example", type: "A", address: "127.0.0.1" }]);
    stack = await startTestStack({
      dnsServers: [zone.server],
      smtpLimits: { maxMessageBytes: 10_000, maxRecipients: 3, socketTimeoutMs: 2_000 },
      mxLimits: limits,
    });
  });
  after(async () => {
    await stack?.cleanup();
    await zone?.stop();
  });

  it("connections per IP: the one over the limit gets 421 4.7.0 instead of the greeting; other IPs are not affected", async () => {
    const port = stack.relay!.ports.mx!;
    const first = await open(stack, "127.0.0.3");
    const second = await open(stack, "127.0.0.3");
    try {
      const third = await SmtpTranscript.open(port, "127.0.0.3");
      assert.match(third.greeting, /^421 4\.7\.0 mx\.edgemail\.test Error: too many connections from \[127\.0\.0\.3\]/);
      await assertClosed(third.client);

      const other = await open(stack, "127.0.0.13");
      other.close();

      // A slot frees when a connection goes: QUIT one and the next connection from the IP is greeted.
      assert.match(await first.command("QUIT"), /^221/);
      const last: { client?: SmtpTranscript } = {};
      await eventually(async () => {
        last.client?.close();
        const next = await SmtpTranscript.open(port, "127.0.0.3");
        last.client = next.client;
        return next.greeting.startsWith("220 ");
      }, "a free slot for 127.0.0.3");
      last.client?.close();
    } finally {
      first.close();
      second.close();
    }
  });

  it("messages per connection: after the limit the next MAIL gets 421 4.7.0 and the connection is closed", async () => {
    const client = await open(stack, "127.0.0.4");
    try {
      assert.match(await client.command("EHLO remote.example"), /^250/);
      for (let i = 0; i < limits.maxMessagesPerConnection; i++) {
        assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250 2\.1\.0/);
        assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^250 2\.1\.5/);
        assert.match(await client.command("DATA"), /^354/);
        assert.match(await client.data(MESSAGE.replace("abuse limits", `message ${i}`)), /^250 2\.6\.0 Stored as /);
      }
      assert.match(
        await client.command("MAIL FROM:<x@remote.example>"),
        /^421 4\.7\.0 mx\.edgemail\.test Error: too many messages in this connection/,
      );
      await assertClosed(client);
    } finally {
      client.close();
    }
    // A new connection may go on.
    const again = await open(stack, "127.0.0.4");
    try {
      assert.match(await again.command("EHLO remote.example"), /^250/);
      assert.match(await again.command("MAIL FROM:<x@remote.example>"), /^250 2\.1\.0/);
    } finally {
      again.close();
    }
  });

  it("recipients per message: the one over maxRecipients gets 452 4.5.3", async () => {
    await stack.admin("POST", "/accounts", { address: "r1@edgemail.test", password: "r1-password-123" }, [409]);
    await stack.admin("POST", "/accounts", { address: "r2@edgemail.test", password: "r2-password-123" }, [409]);
    await stack.admin("POST", "/accounts", { address: "r3@edgemail.test", password: "r3-password-123" }, [409]);
    const client = await open(stack, "127.0.0.5");
    try {
      assert.match(await client.command("EHLO remote.example"), /^250/);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
      for (const r of ["r1", "r2", "r3"]) assert.match(await client.command(`RCPT TO:<${r}@edgemail.test>`), /^250 2\.1\.5/);
      assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^452 4\.5\.3 /);
    } finally {
      client.close();
    }
  });

  it("commands without a transaction: the one after maxCommandsWithoutMail gets 421 4.7.0; an accepted MAIL starts the count over", async () => {
    const client = await open(stack, "127.0.0.6");
    try {
      // 4 commands, then MAIL as the 5th: accepted, and the count starts over.
      assert.match(await client.command("EHLO remote.example"), /^250/);
      for (let i = 0; i < 3; i++) assert.match(await client.command("NOOP"), /^250/);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250 2\.1\.0/);
      // Inside the transaction nothing is counted; RSET ends it.
      for (let i = 0; i < 6; i++) assert.match(await client.command("NOOP"), /^250/);
      assert.match(await client.command("RSET"), /^250/);
      // Five more without a transaction are answered, the sixth is not.
      for (let i = 0; i < limits.maxCommandsWithoutMail; i++) assert.match(await client.command("NOOP"), /^250/);
      assert.match(await client.command("NOOP"), /^421 4\.7\.0 mx\.edgemail\.test Error: too many commands without a mail transaction/);
      await assertClosed(client);
    } finally {
      client.close();
    }
  });

  it("unknown recipients: after maxUnknownRecipients refusals with 550 5.1.1 the next RCPT gets 421 4.7.0 and the connection is closed", async () => {
    const client = await open(stack, "127.0.0.7");
    try {
      assert.match(await client.command("EHLO remote.example"), /^250/);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
      assert.match(await client.command("RCPT TO:<nobody1@edgemail.test>"), /^550 5\.1\.1 /);
      // Relaying denied is not an unknown recipient.
      assert.match(await client.command("RCPT TO:<victim@elsewhere.example>"), /^550 5\.7\.1 Relaying denied/);
      assert.match(await client.command("RCPT TO:<nobody2@edgemail.test>"), /^550 5\.1\.1 /);
      assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^421 4\.7\.0 mx\.edgemail\.test Error: too many unknown recipients/);
      await assertClosed(client);
    } finally {
      client.close();
    }
  });

  it("early talkers: a command before the greeting gets 554 5.5.0 and the connection is closed without a greeting", async () => {
    const socket = connect({ port: stack.relay!.ports.mx!, host: "127.0.0.1", localAddress: "127.0.0.8" });
    socket.setEncoding("latin1");
    let received = "";
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {}); // the server may reset after closing
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write("EHLO early.example\r\n");
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    assert.match(received, /^554 5\.5\.0 SMTP synchronization error/);
    assert.doesNotMatch(received, /^220/m);

    // A client that waits is greeted after greetingDelayMs.
    const started = Date.now();
    const polite = await open(stack, "127.0.0.8");
    assert.ok(Date.now() - started >= limits.greetingDelayMs - 50, `greeted after ${Date.now() - started} ms`);
    polite.close();
  });

  it("idle timeout: a silent client gets 421 4.4.2 after socketTimeoutMs and the connection is closed", async () => {
    const client = await open(stack, "127.0.0.9");
    try {
      assert.match(await client.command("EHLO remote.example"), /^250/);
      const started = Date.now();
      assert.match(await client.reply(10_000), /^421 4\.4\.2 Timeout - closing connection/);
      assert.ok(Date.now() - started >= 1_800, `timed out after ${Date.now() - started} ms`);
      await assertClosed(client);
    } finally {
      client.close();
    }
  });

  it("message size: SIZE advertised, a larger SIZE= and larger data get 552 5.3.4", async () => {
    const client = await open(stack, "127.0.0.10");
    try {
      assert.match(await client.command("EHLO remote.example"), /^250-[\s\S]*SIZE 10000/);
      assert.match(await client.command("MAIL FROM:<x@remote.example> SIZE=10001"), /^552 5\.3\.4 /);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
      assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      assert.match(await client.data(MESSAGE + "x".repeat(78).concat("\r\n").repeat(130)), /^552 5\.3\.4 /);
    } finally {
      client.close();
    }
  });
});

describe("MX abuse limits: configuration", () => {
  const base = { hostname: "mx.example", edge: { url: "http://127.0.0.1:1", relayKey: "k".repeat(16) }, tls: { certFile: "c", keyFile: "k" }, listen: {} };

  it("defaults are the documented values", () => {
    const config = parseConfig(base);
    assert.deepEqual(config.mxLimits, { ...mxLimits });
    assert.deepEqual(config.dnsbl, { zones: [], timeoutMs: 3_000 });
    assert.equal(config.smtpLimits.maxMessageBytes, smtpLimits.maxMessageBytes);
  });

  it("maxMessageBytes must keep every accepted message under the edge's blob limit, which matches the worker's", async () => {
    const source = await readFile(new URL("../../workers/src/store/blobs.ts", import.meta.url), "utf8");
    const m = /export const MAX_BLOB_BYTES = ([\d\s*]+);/.exec(source);
    assert.ok(m, "MAX_BLOB_BYTES in workers/src/store/blobs.ts");
    assert.equal(m[1]!.split("*").reduce((p, f) => p * Number(f.trim()), 1), EDGE_MAX_BLOB_BYTES);
    // Worst case: every line ends in a bare LF (stored as CRLF), plus the trace fields.
    assert.ok(2 * MAX_MESSAGE_BYTES_BOUND + 64 * 1024 <= EDGE_MAX_BLOB_BYTES);
    assert.ok(smtpLimits.maxMessageBytes <= MAX_MESSAGE_BYTES_BOUND);
    assert.throws(() => parseConfig({ ...base, smtpLimits: { maxMessageBytes: MAX_MESSAGE_BYTES_BOUND + 1 } }), /maxMessageBytes/);
    assert.equal(parseConfig({ ...base, smtpLimits: { maxMessageBytes: MAX_MESSAGE_BYTES_BOUND } }).smtpLimits.maxMessageBytes, MAX_MESSAGE_BYTES_BOUND);
  });

  it("greetingDelayMs cannot go under smtp-server's fixed 100 ms; DNSBL zones must be domain names", () => {
    assert.throws(() => parseConfig({ ...base, mxLimits: { greetingDelayMs: 50 } }), /greetingDelayMs/);
    assert.throws(() => parseConfig({ ...base, dnsbl: { zones: ["not a zone"] } }), /zones/);
    assert.deepEqual(parseConfig({ ...base, dnsbl: { zones: ["zen.example"] } }).dnsbl.zones, ["zen.example"]);
  });

  it("DNSBL query names follow RFC 5782 for IPv4, IPv6 and IPv4-mapped IPv6", () => {
    assert.equal(reverseIp("192.0.2.99"), "99.2.0.192");
    assert.equal(reverseIp("::ffff:127.0.0.2"), "2.0.0.127");
    assert.equal(reverseIp("2001:db8:1:2:3:4:567:89ab"), "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2");
    assert.equal(reverseIp("2001:db8::1"), "1.0.0.0." + "0.0.0.0.".repeat(5) + "8.b.d.0.1.0.0.2");
    assert.equal(reverseIp("not-an-ip"), null);
  });

  it("DNSBL answers: 127.0.0.0/8 lists, 127.255.255.x (list error codes) and failures do not", async () => {
    const answers: Record<string, string[] | Error> = {
      "2.0.0.127.a.example": ["127.0.0.2"],
      "2.0.0.127.b.example": ["127.255.255.254"],
      "2.0.0.127.c.example": Object.assign(new Error("servfail"), { code: "ESERVFAIL" }),
      "2.0.0.127.d.example": ["127.0.0.10", "127.0.0.4"],
    };
    const dnsbl = createDnsbl({
      zones: ["a.example", "b.example", "c.example", "d.example", "e.example"],
      timeoutMs: 1_000,
      servers: [],
      resolve4: async (name) => {
        const a = answers[name];
        if (a instanceof Error) throw a;
        if (a) return a;
        throw Object.assign(new Error("nxdomain"), { code: "ENOTFOUND" });
      },
    });
    assert.deepEqual(await dnsbl.listings("127.0.0.2"), ["a.example", "d.example"]);
    assert.deepEqual(await dnsbl.listings("127.0.0.3"), []);
  });
});

describe("MX DNSBL", () => {
  let zone: DnsZone;
  let stack: Stack;

  before(async () => {
    zone = await startDnsZone([
      { name: "2.0.0.127.zen.example", type: "A", address: "127.0.0.2" },
      { name: "2.0.0.127.zen.example", type: "TXT", text: "listed for testing" },
      // Spamhaus's "query via public resolver" code: an error, not a listing.
      { name: "3.0.0.127.zen.example", type: "A", address: "127.255.255.254" },
    ]);
    stack = await startTestStack({ dnsServers: [zone.server], dnsbl: { zones: ["zen.example"] } });
  });
  after(async () => {
    await stack?.cleanup();
    await zone?.stop();
  });

  it("a listed client gets 554 5.7.1 naming the zone at RCPT (the domain's dnsbl action is reject by default)", async () => {
    const client = await open(stack, "127.0.0.2");
    try {
      assert.match(await client.command("EHLO listed.example"), /^250/);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
      assert.match(
        await client.command("RCPT TO:<demo@edgemail.test>"),
        /^554 5\.7\.1 Service unavailable; Client host \[127\.0\.0\.2\] blocked using zen\.example$/,
      );
      // Unknown users and foreign domains keep their own replies.
      assert.match(await client.command("RCPT TO:<nobody@edgemail.test>"), /^550 5\.1\.1 /);
      assert.match(await client.command("RCPT TO:<victim@elsewhere.example>"), /^550 5\.7\.1 Relaying denied/);
    } finally {
      client.close();
    }
  });

  it("the recipient domain's dnsbl action decides: quarantine and ignore accept the RCPT, reject refuses it, changed without a restart", async () => {
    const rcpt = async (): Promise<string> => {
      const client = await open(stack, "127.0.0.2");
      try {
        assert.match(await client.command("EHLO listed.example"), /^250/);
        assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
        return await client.command("RCPT TO:<demo@edgemail.test>");
      } finally {
        client.close();
      }
    };
    try {
      for (const action of ["quarantine", "ignore"] as const) {
        await stack.admin("PATCH", "/domains/edgemail.test", { inbound: { dnsbl: action } });
        assert.match(await rcpt(), /^250 2\.1\.5/, action);
      }
    } finally {
      await stack.admin("PATCH", "/domains/edgemail.test", { inbound: { dnsbl: "reject" } });
    }
    assert.match(await rcpt(), /^554 5\.7\.1 .* blocked using zen\.example$/);
  });

  for (const ip of ["127.0.0.4", "127.0.0.3"]) {
    it(`an unlisted client (${ip}${ip === "127.0.0.3" ? ", answered with an error code" : ""}) is accepted`, async () => {
      const client = await open(stack, ip);
      try {
        assert.match(await client.command("EHLO clean.example"), /^250/);
        assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
        assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^250 2\.1\.5/);
        assert.match(await client.command("DATA"), /^354/);
        assert.match(await client.data(MESSAGE), /^250 2\.6\.0 Stored as /);
      } finally {
        client.close();
      }
    });
  }
});

describe("MX DNSBL: a list that does not answer", () => {
  let silent: UdpSocket;
  let stack: Stack;

  before(async () => {
    // A "resolver" that swallows every query: each lookup can only time out.
    silent = createSocket("udp4");
    await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
    const server = `127.0.0.1:${silent.address().port}`;
    stack = await startTestStack({ dnsServers: [server], dnsbl: { zones: ["zen.example"], timeoutMs: 500 } });
  });
  after(async () => {
    await stack?.cleanup();
    silent?.close();
  });

  it("blocks nothing: RCPT is accepted once the lookup timed out", async () => {
    const client = await open(stack, "127.0.0.2");
    try {
      assert.match(await client.command("EHLO listed.example"), /^250/);
      assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250/);
      const started = Date.now();
      assert.match(await client.command("RCPT TO:<demo@edgemail.test>"), /^250 2\.1\.5/);
      assert.ok(Date.now() - started < 3_000, `RCPT took ${Date.now() - started} ms`);
    } finally {
      client.close();
    }
  });
});
