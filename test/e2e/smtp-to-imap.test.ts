/**
 * The one real path: a message sent by nodemailer to the MX is stored at the edge and read
 * back over IMAP by imapflow, byte for byte; and the relay can be replaced without a client
 * noticing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function imapClient(stack: Stack, port = stack.relay!.ports.imaps!, secure = true): ImapFlow {
  const demo = stack.settings().demo;
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure,
    auth: { user: demo.address, pass: demo.password },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
}

async function composeMultipart(to: string): Promise<Buffer> {
  const attachment = Buffer.alloc(3000);
  for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 7) % 256;
  const mail = new MailComposer({
    from: "Alice Sender <alice@sender.example>",
    to,
    subject: "Quarterly report, with attachment",
    text: "Hello,\r\n\r\nthe report is attached.\r\n.\r\nA line that starts with a dot.\r\n",
    html: "<p>Hello, the report is <b>attached</b>.</p>",
    messageId: "<report-1@sender.example>",
    date: new Date("2026-11-20T10:00:00Z"),
    attachments: [{ filename: "report.bin", content: attachment, contentType: "application/octet-stream" }],
  });
  return mail.compile().build();
}

describe("SMTP in, stored at the edge, read over IMAP", () => {
  let stack: Stack;
  let sent: Buffer;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack.cleanup();
  });

  it("nodemailer delivers a multipart message with an attachment to the MX port", async () => {
    const to = stack.settings().demo.address;
    sent = await composeMultipart(to);
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: stack.relay!.ports.mx!,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({ envelope: { from: "alice@sender.example", to: [to] }, raw: sent });
    assert.match(info.response, /^250 2\.6\.0 Stored as [0-9a-f-]{36}$/);
    assert.deepEqual(info.accepted, [to]);
  });

  it("imapflow finds it in INBOX and BODY[] is the sent bytes plus only the added trace fields", async () => {
    const client = imapClient(stack);
    await client.connect();
    try {
      const mailbox = await client.mailboxOpen("INBOX");
      assert.equal(mailbox.exists, 1);
      const message = await client.fetchOne("1", { source: true, uid: true, envelope: true, bodyStructure: true, size: true });
      assert.ok(message && message.source);
      const source = message.source;
      assert.ok(source.subarray(source.length - sent.length).equals(sent), "the sent octets are stored unchanged");
      const added = source.subarray(0, source.length - sent.length).toString("latin1");
      const fieldNames = added.split(/\r\n(?![ \t])/).filter(Boolean).map((f) => f.slice(0, f.indexOf(":")));
      assert.deepEqual(fieldNames, ["Return-Path", "Received", "Authentication-Results"]);
      assert.match(added, /^Return-Path: <alice@sender\.example>\r\n/);
      assert.match(added, /Received: from .+\s+by mx\.edgemail\.test \(edgemail\) with ESMTPS? id /s);
      assert.match(added, /\r\nAuthentication-Results: mx\.edgemail\.test;\r\n /);
      assert.equal(message.size, source.length);
      assert.equal(message.envelope?.subject, "Quarterly report, with attachment");
      assert.equal(message.envelope?.messageId, "<report-1@sender.example>");
      assert.equal(message.bodyStructure?.type, "multipart/mixed");
      const leafTypes = JSON.stringify(message.bodyStructure);
      assert.match(leafTypes, /application\/octet-stream/);
      assert.match(leafTypes, /text\/html/);
    } finally {
      await client.logout();
    }
  });

  it("after the relay is restarted, UIDVALIDITY, UIDs and flags are unchanged", async () => {
    const first = imapClient(stack);
    await first.connect();
    const before = await first.mailboxOpen("INBOX");
    const msg = await first.fetchOne("1", { uid: true });
    assert.ok(msg);
    await first.messageFlagsAdd("1", ["\\Flagged", "$Important"]);
    await first.logout();

    await stack.stopRelay();
    await stack.startRelay();

    const second = imapClient(stack);
    await second.connect();
    try {
      const after = await second.mailboxOpen("INBOX");
      assert.equal(after.uidValidity, before.uidValidity);
      const again = await second.fetchOne("1", { uid: true, flags: true });
      assert.ok(again);
      assert.equal(again.uid, msg.uid);
      assert.ok(again.flags?.has("\\Flagged"));
      assert.ok(again.flags?.has("$Important"));
    } finally {
      await second.logout();
    }
  });

  it("over STARTTLS on the cleartext port, BODY.PEEK[HEADER] returns the header and leaves \\Seen alone", async () => {
    const client = imapClient(stack, stack.relay!.ports.imap!, false); // STARTTLS on the cleartext port
    await client.connect();
    try {
      await client.mailboxOpen("INBOX");
      await client.messageFlagsRemove("1", ["\\Seen"]);
      const peek = await client.fetchOne("1", { headers: true, flags: true });
      assert.ok(peek && peek.headers);
      assert.match(peek.headers.toString(), /^Return-Path:/);
      assert.ok(!peek.flags?.has("\\Seen"));
      const flags = await client.fetchOne("1", { flags: true });
      assert.ok(flags && !flags.flags?.has("\\Seen"));
    } finally {
      await client.logout();
    }
  });
});
