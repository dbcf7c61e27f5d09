/**
 * Sessions that watch a mailbox while others change it, driven by imapflow: IDLE hears of a
 * new SMTP delivery within a second (the relay's change feed) and of changes made through
 * another relay within five (its poll of the edge); two sessions on one mailbox see each
 * other's flag changes and expunges; a client that reconnects resynchronises with
 * CONDSTORE/QRESYNC instead of fetching everything again. Plus IDLE's own protocol rules.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { indexMessage } from "../../common/mime/index.ts";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function imapClient(stack: Stack, options: { qresync?: boolean; disableAutoIdle?: boolean } = {}): ImapFlow {
  const demo = stack.settings().demo;
  return new ImapFlow({
    host: "127.0.0.1",
    port: stack.relay!.ports.imaps!,
    secure: true,
    auth: { user: demo.address, pass: demo.password },
    tls: { rejectUnauthorized: false },
    logger: process.env.IMAPFLOW_DEBUG
      ? ({ debug: (o: { msg: string; data?: string }) => console.log("D", o.msg, o.data ?? ""), info() {}, warn() {}, error: console.log, trace() {} } as never)
      : false,
    ...options,
  });
}

/** Resolves with the first event `name` that `accept`s, or rejects after `ms`. */
function nextEvent<T>(client: ImapFlow, name: string, ms: number, accept: (data: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(name, listener);
      reject(new Error(`no ${name} event within ${ms} ms`));
    }, ms);
    const listener = (data: T) => {
      if (!accept(data)) return;
      clearTimeout(timer);
      client.off(name, listener);
      resolve(data);
    };
    client.on(name, listener);
  });
}

/** Starts IDLE and waits until the server has answered "+ idling"; `done` settles when IDLE ends. */
async function startIdle(client: ImapFlow): Promise<{ done: Promise<unknown> }> {
  const done = client.idle();
  for (let i = 0; i < 100 && !client.idling; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(client.idling, "IDLE started");
  return { done };
}

async function sendMail(stack: Stack, subject: string): Promise<void> {
  const to = stack.settings().demo.address;
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: stack.relay!.ports.mx!, secure: false, tls: { rejectUnauthorized: false } });
  const raw = `From: Sender <sender@sender.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@sender.example>\r\n\r\nHello.\r\n`;
  const info = await transport.sendMail({ envelope: { from: "sender@sender.example", to: [to] }, raw });
  assert.match(info.response, /^250 /);
}

/** A delivery that does not pass through this relay (as if another relay had taken it). */
async function deliverElsewhere(stack: Stack, subject: string): Promise<void> {
  const to = stack.settings().demo.address;
  const raw = Buffer.from(`From: Far <far@sender.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nFrom elsewhere.\r\n`);
  const edge = stack.relay!.edge;
  const blob = await edge.putBlob(createHash("sha256").update(raw).digest("hex"), raw);
  await edge.deliver({
    idempotencyKey: `test:elsewhere:${subject}`,
    blob,
    envelope: { mailFrom: "far@sender.example", recipients: [to] },
    index: indexMessage(raw),
  });
}

describe("IMAP IDLE and concurrent sessions", () => {
  let stack: Stack;

  before(async () => {
    stack = await startTestStack();
    await sendMail(stack, "First message");
    await sendMail(stack, "Second message");
  });
  after(async () => {
    await stack.cleanup();
  });

  it("IDLE reports a new SMTP delivery within a second", async () => {
    const client = imapClient(stack, { disableAutoIdle: true });
    await client.connect();
    try {
      const before = (await client.mailboxOpen("INBOX")).exists; // imapflow updates the mailbox object in place
      const idling = await startIdle(client);
      const exists = nextEvent<{ count: number; prevCount: number }>(client, "exists", 1_000);
      await sendMail(stack, "Arrives during IDLE");
      const event = await exists;
      assert.equal(event.count, before + 1);
      await client.noop(); // ends IDLE with DONE
      await idling.done;
    } finally {
      await client.logout();
    }
  });

  it("IDLE reports changes made through another relay within five seconds", async () => {
    const client = imapClient(stack, { disableAutoIdle: true });
    await client.connect();
    try {
      const before = (await client.mailboxOpen("INBOX")).exists; // imapflow updates the mailbox object in place
      const idling = await startIdle(client);
      const exists = nextEvent<{ count: number }>(client, "exists", 5_000);
      const started = Date.now();
      await deliverElsewhere(stack, "Delivered elsewhere");
      assert.equal((await exists).count, before + 1);
      assert.ok(Date.now() - started < 5_000);
      await client.noop();
      await idling.done;
    } finally {
      await client.logout();
    }
  });

  it("two sessions see each other's flag changes and expunges", async () => {
    const a = imapClient(stack);
    const b = imapClient(stack, { disableAutoIdle: true });
    await a.connect();
    await b.connect();
    try {
      await a.mailboxOpen("INBOX");
      const existsB = (await b.mailboxOpen("INBOX")).exists;
      const idling = await startIdle(b);

      const flags = nextEvent<{ uid: number; flags: Set<string> }>(b, "flags", 1_000, (d) => d.flags.has("\\Flagged"));
      assert.ok(await a.messageFlagsAdd("1", ["\\Flagged"], { uid: true }));
      const flagged = await flags;
      assert.equal(flagged.uid, 1);

      const expunge = nextEvent<{ seq?: number; uid?: number }>(b, "expunge", 1_000);
      assert.ok(await a.messageDelete("2", { uid: true }));
      const gone = await expunge;
      assert.ok(gone.seq === 2 || gone.uid === 2, JSON.stringify(gone));
      await b.noop();
      await idling.done;
      assert.equal(b.mailbox && typeof b.mailbox === "object" ? b.mailbox.exists : -1, existsB - 1);
    } finally {
      await a.logout();
      await b.logout();
    }
  });

  it("a reconnecting client resynchronises with CONDSTORE and QRESYNC", async () => {
    const first = imapClient(stack, { qresync: true });
    await first.connect();
    const box = { ...(await first.mailboxOpen("INBOX")) };
    assert.equal(typeof box.highestModseq, "bigint");
    const known = await first.search({ all: true }, { uid: true });
    await first.logout();
    assert.ok(known && known.length >= 3);

    // While it is away, another session flags one message and expunges another.
    const other = imapClient(stack);
    await other.connect();
    await other.mailboxOpen("INBOX");
    const [flagUid, deleteUid] = [known[known.length - 1]!, known[known.length - 2]!];
    await other.messageFlagsAdd(String(flagUid), ["$Resynced"], { uid: true });
    await other.messageDelete(String(deleteUid), { uid: true });
    await other.logout();

    // CONDSTORE: only what changed since the old HIGHESTMODSEQ comes back.
    const second = imapClient(stack);
    await second.connect();
    try {
      await second.mailboxOpen("INBOX");
      const changed = [];
      for await (const m of second.fetch("1:*", { uid: true, flags: true }, { uid: true, changedSince: box.highestModseq })) changed.push(m);
      assert.deepEqual(
        changed.map((m) => m.uid),
        [flagUid],
      );
      assert.ok(changed[0]!.flags?.has("$Resynced"));
    } finally {
      await second.logout();
    }

    // QRESYNC: the SELECT itself says what vanished and what changed.
    const third = imapClient(stack, { qresync: true });
    await third.connect();
    try {
      const vanished: unknown[] = [];
      const changedFlags: { uid?: number }[] = [];
      third.on("expunge", (e) => vanished.push(e));
      third.on("flags", (e) => changedFlags.push(e));
      const resynced = await third.mailboxOpen("INBOX", { uidValidity: box.uidValidity, changedSince: box.highestModseq });
      assert.equal(resynced.exists, box.exists - 1);
      assert.ok(
        vanished.some((e) => JSON.stringify(e, (_, v) => (typeof v === "bigint" ? String(v) : v)).includes(String(deleteUid))),
        JSON.stringify(vanished),
      );
      assert.deepEqual(
        changedFlags.map((e) => e.uid),
        [flagUid],
      );
    } finally {
      await third.logout();
    }
  });

  it("IDLE: + idling, DONE ends it with OK; anything else is BAD", async () => {
    const demo = stack.settings().demo;
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    try {
      await client.command(`LOGIN "${demo.address}" "${demo.password}"`);
      await client.command("SELECT INBOX");
      assert.match(await client.raw("I1 IDLE\r\n", /\+ idling\r\n/), /^\+ idling\r\n$/);
      assert.match(await client.raw("DONE\r\n", /I1 [^\r\n]*\r\n/), /^I1 OK Idle completed\.\r\n$/);
      await client.raw("I2 IDLE\r\n", /\+ idling\r\n/);
      assert.match(await client.raw("I3 NOOP\r\n", /I2 [^\r\n]*\r\n/), /I2 BAD /);
      assert.match((await client.command("NOOP")).tagged, /OK/, "the connection goes on");
    } finally {
      client.close();
    }
  });
});
