/**
 * `npm run bench` (second half): outbound mail over the local stack, with each figure next to
 * a reference measured in the same run on the same machine, so the ratios mean something anywhere.
 *
 *   submissions  BENCH_SUBMISSIONS (default 500) messages of ~4 KB submitted on 587 (STARTTLS,
 *                AUTH as the demo account, nodemailer pooled with 8 connections) to recipients at
 *                sink.example, timed from the first send to the last 250, with outbound delivery
 *                stopped so it does not compete; against the same messages sent to the relay's MX
 *                port (no AUTH, same pool, recipient demo@edgemail.test: local delivery through
 *                the same edge);
 *   deliveries   the jobs those submissions queued, leased and delivered by the relay's delivery
 *                worker (concurrency 8) to a local sink MX (smtp-server on 127.0.0.2, found through
 *                MX and A records served by a local unbound), timed from starting the worker until
 *                the sink has them all; against nodemailer sending the same messages straight to
 *                the sink (pooled, 8 connections). Also the edge calls per delivered message and
 *                the SMTP connections each side opened (smtp-server, hence the sink, waits 100 ms
 *                before its greeting on every new connection, which a pooled reference pays 8 times).
 *
 * Not a test: it asserts nothing and is not run by `npm test`. A phase that does not finish (the
 * delivery engine is new) is reported as such and the script still cleans up and exits 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { LocalStack } from "../local/stack.ts";
import { startDnsZone, type DnsZone } from "../test/support/dns-zone.ts";
import { startRemoteMxs, type RemoteMxs } from "../test/support/remote-mx.ts";

const N = Number(process.env.BENCH_SUBMISSIONS ?? 500);
const POOL = 8;
const SINK = { ip: "127.0.0.2", name: "mx.sink.example" };

type Transport = ReturnType<typeof nodemailer.createTransport>;
interface Mail {
  from: string;
  to: string;
  subject: string;
  text: string;
}

const logLines: string[] = [];
let zone: DnsZone | undefined;
let sink: RemoteMxs | undefined;
let stack: LocalStack | undefined;
const dataDir = await mkdtemp(join(tmpdir(), "edgemail-bench-outbound-"));
const started = performance.now();

try {
  sink = await startRemoteMxs([{ ...SINK, tls: "none" }]);
  zone = await startDnsZone([
    { name: "sink.example", type: "MX", preference: 10, exchange: SINK.name },
    { name: SINK.name, type: "A", address: SINK.ip },
  ]);
  stack = new LocalStack({
    dataDir,
    edgeTimeoutMs: 60_000,
    // The bench submits far more than a person's hourly allowance.
    smtpLimits: { maxSubmissionsPerHour: 1_000_000 },
    dnsServers: [zone.server],
    delivery: {
      smtpPort: sink.port,
      pollIntervalMs: 100,
      concurrency: POOL,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 30_000,
    },
    log: (line) => logLines.push(line),
  });
  const settings = await stack.start();
  const relay = stack.relay!;
  const worker = relay.delivery!;
  await worker.stop(); // phase A measures acceptance alone: nothing is leased until phase B
  const demo = settings.demo;

  const messages = (to: (i: number) => string, tag: string): Mail[] =>
    Array.from({ length: N }, (_, i) => ({
      from: `Demo <${demo.address}>`,
      to: to(i),
      subject: `${tag} ${i}`,
      text: body(i),
    }));

  // ---- figure A: submissions accepted on 587 ---------------------------------------------------
  const submission = nodemailer.createTransport({
    host: "127.0.0.1",
    port: settings.ports.submission!,
    secure: false,
    requireTLS: true,
    auth: { user: demo.address, pass: demo.password },
    tls: { rejectUnauthorized: false },
    pool: true,
    maxConnections: POOL,
    maxMessages: Infinity,
    logger: false,
  });
  const mx = nodemailer.createTransport({
    host: "127.0.0.1",
    port: settings.ports.smtp!,
    secure: false, // opportunistic STARTTLS, as a sending MTA would: both sides pay for TLS
    tls: { rejectUnauthorized: false },
    pool: true,
    maxConnections: POOL,
    maxMessages: Infinity,
    logger: false,
  });
  // Warm both paths (worker code, connections' first handshakes) with local mail that queues no job.
  await send(submission, messages(() => demo.address, "warm-up").slice(0, POOL));
  await send(mx, messages(() => demo.address, "warm-up").slice(0, POOL));

  console.log(`\nsubmission of ${N} messages of ~${(body(0).length / 1024).toFixed(1)} KB (${POOL} pooled connections):`);
  const sub = await send(submission, messages((i) => `user${i % 50}@sink.example`, "bench submission"));
  const ref = await send(mx, messages(() => demo.address, "bench mx"));
  submission.close();
  mx.close();
  report(sub);
  report(ref);
  row("submissions accepted on 587", sub.accepted / (sub.ms / 1000), ref.accepted / (ref.ms / 1000), "msg/s", "same messages to the MX port, local delivery");

  // ---- figure B: outbound deliveries to a local sink ------------------------------------------
  const acceptedJobs = sub.accepted;
  const edgeBefore = relay.edge.stats.requests;
  const sinkBefore = sink.received.length;
  const connectionsBefore = sink.connectionsFor(SINK.name);
  let t = performance.now();
  worker.start();
  worker.kick();
  let deliveredMs: number | null = null;
  try {
    await sink.waitForMessages(sinkBefore + acceptedJobs, Math.max(60_000, acceptedJobs * 500));
    deliveredMs = performance.now() - t;
  } catch (err) {
    console.log(`\n  delivery did not finish: ${(err as Error).message}`);
  }
  const delivered = sink.received.length - sinkBefore;
  // Reports follow the sink's 250 by one edge call; wait briefly so the call count includes them.
  const reportDeadline = Date.now() + 10_000;
  while (worker.stats.reported < delivered && Date.now() < reportDeadline) await sleep(20);
  await worker.stop();
  const edgeCalls = relay.edge.stats.requests - edgeBefore;
  const workerStats = { ...worker.stats };
  const deliveryConnections = sink.connectionsFor(SINK.name) - connectionsBefore;

  const direct = nodemailer.createTransport({
    host: SINK.ip,
    port: sink.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: POOL,
    maxMessages: Infinity,
    logger: false,
  });
  const directSinkBefore = sink.received.length;
  const directConnectionsBefore = sink.connectionsFor(SINK.name);
  t = performance.now();
  const directRun = await send(direct, messages((i) => `user${i % 50}@sink.example`, "bench direct"));
  direct.close();
  const directMs = performance.now() - t;
  const directConnections = sink.connectionsFor(SINK.name) - directConnectionsBefore;

  console.log(`\noutbound delivery of ${acceptedJobs} queued messages (worker concurrency ${POOL}) to a local sink MX:`);
  report(directRun);
  if (deliveredMs !== null) {
    row("outbound deliveries to a local sink", delivered / (deliveredMs / 1000), directRun.accepted / (directMs / 1000), "msg/s", "nodemailer straight to the sink, pooled");
  } else {
    console.log(`  outbound deliveries to a local sink: ${delivered} of ${acceptedJobs} arrived; reference (nodemailer straight to the sink, pooled) ${(directRun.accepted / (directMs / 1000)).toFixed(1)} msg/s`);
  }
  console.log(
    `  edge calls: ${edgeCalls} for ${delivered} delivered messages (${delivered ? (edgeCalls / delivered).toFixed(2) : "n/a"} per message); ` +
      `worker: ${workerStats.jobs} jobs leased, ${workerStats.reported} recipients reported, ${workerStats.lostLeases} leases lost`,
  );
  console.log(`  SMTP connections the sink accepted: ${deliveryConnections} from the relay, ${directConnections} from the reference`);
  if (sink.received.length - directSinkBefore !== directRun.accepted) {
    console.log(`  note: the sink holds ${sink.received.length - directSinkBefore} direct messages for ${directRun.accepted} accepted`);
  }
  const deliveryLog = logLines.filter((l) => l.startsWith("delivery"));
  if (deliveryLog.length > 0) {
    console.log(`  relay delivery log (${deliveryLog.length} lines, first 5):`);
    for (const line of deliveryLog.slice(0, 5)) console.log(`    ${line}`);
  }
} finally {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await zone?.stop();
  await sink?.stop();
  console.log(`\noutbound bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

interface Run {
  label: string;
  ms: number;
  accepted: number;
  errors: Map<string, number>;
}

/** Sends every mail through a pooled transport at once (the pool bounds the concurrency); never throws. */
async function send(transport: Transport, mails: Mail[]): Promise<Run> {
  const errors = new Map<string, number>();
  let accepted = 0;
  const t = performance.now();
  await Promise.all(
    mails.map((mail) =>
      transport.sendMail(mail).then(
        (info) => {
          if (/^250\b/.test(info.response)) accepted++;
          else errors.set(info.response, (errors.get(info.response) ?? 0) + 1);
        },
        (err: Error) => {
          const key = err.message.slice(0, 120);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        },
      ),
    ),
  );
  return { label: mails[0]?.subject.replace(/ \d+$/, "") ?? "", ms: performance.now() - t, accepted, errors };
}

function report(run: Run): void {
  if (run.errors.size === 0) return;
  console.log(`  ${run.label}: ${run.accepted} accepted; not accepted:`);
  for (const [reason, count] of run.errors) console.log(`    ${count}× ${reason}`);
}

function row(label: string, value: number, reference: number, unit: string, refLabel: string, higherIsBetter = true): void {
  const ratio = higherIsBetter ? value / reference : reference / value;
  console.log(`  ${label}: ${value.toFixed(1)} ${unit}; reference (${refLabel}) ${reference.toFixed(1)} ${unit}; ratio ${ratio.toFixed(2)}`);
}

/** ~4 KB of plain text, different per message. */
function body(i: number): string {
  const line = `Message ${i}: the quarterly numbers, the meeting notes and the travel plans follow.\n`;
  return line.repeat(Math.ceil(4096 / line.length)).slice(0, 4096);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
