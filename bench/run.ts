/**
 * `npm run bench`: the IMAP server over the local stack, with each figure next to a reference
 * measured in the same run on the same machine, so the ratios mean something anywhere.
 *
 *   full fetch   IMAP FETCH (FLAGS ENVELOPE BODYSTRUCTURE) then BODY[] of every message of a
 *                BENCH_MESSAGES-message mailbox (default 10,000), against the same metadata and
 *                bytes read straight from the edge API (the floor the relay adds its work to);
 *   search       UID SEARCH latency for a few criteria, against the edge's search call alone;
 *   edge calls   HTTP requests the relay made to the edge per IMAP command (a counting proxy
 *                sits between them);
 *   memory       the relay process's RSS with BENCH_IDLE (default 2,000) authenticated idle
 *                connections, against its RSS before they connected.
 *
 * Not a test: it asserts nothing and is not run by `npm test`.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { ImapFlow } from "imapflow";
import { indexMessage } from "../common/mime/index.ts";
import { computeSearchFields } from "../common/mime/search-fields.ts";
import { EdgeClient } from "../relay/edge/client.ts";
import { LocalStack } from "../local/stack.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 2_000);

const dataDir = await mkdtemp(join(tmpdir(), "edgemail-bench-"));
const stack = new LocalStack({ dataDir, edgeTimeoutMs: 60_000 });
const settings = await stack.start();
await stack.stopRelay(); // the bench runs its own relay in a child process, behind a counting proxy
const demo = settings.demo;

// ---- a counting proxy between relay and edge ------------------------------------------------
let edgeRequests = 0;
const proxy = createServer((req, res) => {
  edgeRequests++;
  const upstream = httpRequest(
    { host: "127.0.0.1", port: settings.ports.edge, path: req.url, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
});
await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
const proxyPort = (proxy.address() as { port: number }).port;

// ---- the relay, as in production: its own process -----------------------------------------
const configPath = join(dataDir, "relay.json");
await writeFile(
  configPath,
  JSON.stringify({
    hostname: "mx.bench.test",
    edge: { url: `http://127.0.0.1:${proxyPort}`, relayKey: stack.secrets.relayKey, timeoutMs: 60_000 },
    tls: stack.certificate,
    listen: { host: "127.0.0.1", mx: null, imaps: 0, imap: null },
    imapLimits: { maxConnectionsPerIp: IDLE + 100, maxConnectionsPerAccount: IDLE + 100, commandBurst: 100_000, commandsPerSecond: 100_000 },
  }),
);
const relay = spawn(process.execPath, [join(ROOT, "relay/main.ts"), configPath], { stdio: ["ignore", "pipe", "inherit"] });
const imapsPort = await new Promise<number>((resolve, reject) => {
  let out = "";
  relay.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /listening: (\{.*\})/.exec(out);
    if (m) resolve((JSON.parse(m[1]!) as { imaps: number }).imaps);
  });
  relay.once("exit", (code) => reject(new Error(`relay exited with ${code}`)));
});

try {
  const edge = new EdgeClient({ url: settings.edgeUrl, relayKey: stack.secrets.relayKey, timeoutMs: 60_000 });
  console.log(`filling INBOX with ${MESSAGES} messages…`);
  await fill(edge, MESSAGES);

  const client = new ImapFlow({
    host: "127.0.0.1",
    port: imapsPort,
    secure: true,
    auth: { user: demo.address, pass: demo.password },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  await client.connect();
  const box = await client.mailboxOpen("INBOX");

  // ---- full fetch -------------------------------------------------------------------------
  let t = performance.now();
  let before = edgeRequests;
  let count = 0;
  for await (const _ of client.fetch("1:*", { flags: true, envelope: true, bodyStructure: true, uid: true })) count++;
  const metaMs = performance.now() - t;
  const metaCalls = edgeRequests - before;
  t = performance.now();
  before = edgeRequests;
  let bytes = 0;
  for await (const m of client.fetch("1:*", { source: true })) bytes += m.source?.length ?? 0;
  const bodyMs = performance.now() - t;
  const bodyCalls = edgeRequests - before;

  const accountId = 1;
  const snapshot = await edge.selectMailbox(accountId, "INBOX");
  const uids = snapshot.messages.map((m) => m.uid);
  t = performance.now();
  await edge.fetchMessages(accountId, snapshot.mailbox.id, uids);
  const refMetaMs = performance.now() - t;
  t = performance.now();
  await parallel(uids, 16, async (uid) => {
    await edge.readMessageRange(accountId, snapshot.mailbox.id, uid, { start: 0, end: Number.MAX_SAFE_INTEGER });
  });
  const refBodyMs = performance.now() - t;

  console.log(`\nfull fetch of ${count} messages (${box.exists} in INBOX, ${(bytes / 1e6).toFixed(1)} MB):`);
  row("FETCH FLAGS ENVELOPE BODYSTRUCTURE", count / (metaMs / 1000), count / (refMetaMs / 1000), "msg/s", "edge fetch call");
  row("FETCH BODY[]", count / (bodyMs / 1000), count / (refBodyMs / 1000), "msg/s", "edge raw reads, 16 parallel");
  console.log(`  edge calls: ${metaCalls} for the metadata FETCH, ${bodyCalls} for the BODY[] FETCH (${(bodyCalls / count).toFixed(2)} per message)`);

  // ---- search -----------------------------------------------------------------------------
  console.log("\nsearch latency (median of 5):");
  for (const [label, criteria, ast] of [
    ["UID SEARCH FLAGGED", { flagged: true }, { op: "flag", flag: "\\Flagged", set: true }],
    ["UID SEARCH SUBJECT report", { subject: "report" }, { op: "header", field: "subject", value: "report" }],
    ["UID SEARCH BODY invoice", { body: "invoice" }, { op: "body", value: "invoice" }],
  ] as const) {
    const imapMs = await median(5, async () => {
      await client.search(criteria, { uid: true });
    });
    before = edgeRequests;
    await client.search(criteria, { uid: true });
    const calls = edgeRequests - before;
    const refMs = await median(5, async () => {
      await edge.search(accountId, snapshot.mailbox.id, { criteria: ast });
    });
    row(label, imapMs, refMs, "ms", "edge search call", false);
    console.log(`  edge calls: ${calls}`);
  }
  await client.logout();

  // ---- memory with idle connections --------------------------------------------------------
  const rssBefore = await rss(relay.pid!);
  const sockets: TLSSocket[] = [];
  await parallel(
    Array.from({ length: IDLE }, (_, i) => i),
    50,
    async () => {
      sockets.push(await idleSession(imapsPort, demo.address, demo.password));
    },
  );
  const rssAfter = await rss(relay.pid!);
  console.log(`\nrelay memory with ${sockets.length} authenticated idle connections:`);
  console.log(
    `  RSS ${(rssAfter / 1024).toFixed(0)} MiB, before ${(rssBefore / 1024).toFixed(0)} MiB: ratio ${(rssAfter / rssBefore).toFixed(2)}×, ${(((rssAfter - rssBefore) * 1024) / sockets.length / 1024).toFixed(1)} KiB per connection`,
  );
  for (const s of sockets) s.destroy();
} finally {
  relay.kill("SIGTERM");
  proxy.close();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}

function row(label: string, value: number, reference: number, unit: string, refLabel: string, higherIsBetter = true): void {
  const ratio = higherIsBetter ? value / reference : reference / value;
  console.log(`  ${label}: ${value.toFixed(1)} ${unit}; reference (${refLabel}) ${reference.toFixed(1)} ${unit}; ratio ${ratio.toFixed(2)}`);
}

async function median(n: number, f: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

async function parallel<T>(items: T[], width: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0); // KiB
}

async function fill(edge: EdgeClient, n: number): Promise<void> {
  const words = ["report", "invoice", "meeting", "holiday", "budget", "review", "draft", "notes"];
  await parallel(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const word = words[i % words.length]!;
      const raw = Buffer.from(
        [
          `From: Sender ${i} <sender${i % 97}@example.net>`,
          "To: demo@edgemail.test",
          `Subject: ${word} number ${i}`,
          `Message-ID: <bench-${i}@example.net>`,
          `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString().replace("GMT", "+0000")}`,
          "MIME-Version: 1.0",
          'Content-Type: multipart/alternative; boundary="b"',
          "",
          "--b",
          "Content-Type: text/plain; charset=utf-8",
          "",
          `Hello, this is message ${i} about the ${word}.`.repeat(20),
          "--b",
          "Content-Type: text/html; charset=utf-8",
          "",
          `<p>Hello, this is message ${i} about the <b>${word}</b>.</p>`.repeat(20),
          "--b--",
          "",
        ].join("\r\n"),
      );
      const blob = await edge.putBlob(createHash("sha256").update(raw).digest("hex"), raw);
      const index = indexMessage(raw);
      await edge.deliver({
        idempotencyKey: `bench:${i}:${blob.key}`,
        blob,
        envelope: { mailFrom: "", recipients: ["demo@edgemail.test"] },
        index,
        search: computeSearchFields(raw, index),
      });
    },
  );
}

function idleSession(port: number, user: string, pass: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    let text = "";
    socket.on("error", reject);
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.includes("* OK") && !text.includes("sent")) {
        text += "sent";
        socket.write(`a LOGIN ${user} ${pass}\r\nb SELECT INBOX\r\n`);
      }
      if (/^b OK/m.test(text)) resolve(socket);
    });
  });
}
