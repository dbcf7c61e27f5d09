/**
 * Submission (465 implicit TLS, 587 STARTTLS) on the real stack: nodemailer submits with AUTH
 * and the message reaches a local recipient's INBOX over IMAP; raw transcripts pin the policy's
 * reply codes (TLS before AUTH, AUTH before MAIL, sender ownership, header From, failed logins).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import nodemailer from "nodemailer";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { connectImap } from "../support/imap-client.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString("base64");

function message(from: string, to: string, subject: string): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@edgemail.test>\r\n\r\nHello.\r\n`;
}

describe("submission (465/587)", () => {
  let stack: Stack;
  let demo: { address: string; password: string };
  const bob = { address: "bob@edgemail.test", password: "bob-password-123" };

  before(async () => {
    // Small limits so that both can be reached: 3 submissions succeed before the rate-limit test.
    stack = await startTestStack({ smtpLimits: { maxMessageBytes: 10_000, maxSubmissionsPerHour: 4 } });
    demo = stack.settings().demo;
    await stack.admin("POST", "/accounts", { address: bob.address, password: bob.password });
  });
  after(async () => {
    await stack.cleanup();
  });

  async function inboxSubjects(user: { address: string; password: string }): Promise<string[]> {
    const imap = await connectImap(stack, user);
    try {
      await imap.mailboxOpen("INBOX");
      const subjects: string[] = [];
      for await (const m of imap.fetch("1:*", { envelope: true })) subjects.push(m.envelope?.subject ?? "");
      return subjects;
    } finally {
      await imap.logout();
    }
  }

  async function authenticated465(): Promise<SmtpTranscript> {
    const { client, greeting } = await SmtpTranscript.openTls(stack.relay!.ports.submissions!);
    assert.match(greeting, /^220 /);
    assert.match(await client.command("EHLO client.example"), /^250/);
    assert.match(await client.command(`AUTH PLAIN ${plain(demo.address, demo.password)}`), /^235 2\.7\.0/);
    return client;
  }

  it("587 before STARTTLS: no AUTH offered, AUTH refused with 538 5.7.11, MAIL with 530 5.7.0", async () => {
    const { client, greeting } = await SmtpTranscript.open(stack.relay!.ports.submission!);
    try {
      assert.match(greeting, /^220 mx\.edgemail\.test /);
      const ehlo = await client.command("EHLO client.example");
      assert.match(ehlo, /STARTTLS/);
      assert.doesNotMatch(ehlo, /AUTH/);
      assert.match(await client.command(`AUTH PLAIN ${plain(demo.address, demo.password)}`), /^538 5\.7\.11 Encryption required$/);
      assert.match(await client.command("MAIL FROM:<demo@edgemail.test>"), /^530 5\.7\.0 Must issue a STARTTLS command first$/);
    } finally {
      client.close();
    }
  });

  it("465: AUTH is offered, MAIL before AUTH is refused with 530 5.7.0", async () => {
    const { client } = await SmtpTranscript.openTls(stack.relay!.ports.submissions!);
    try {
      const ehlo = await client.command("EHLO client.example");
      assert.match(ehlo, /AUTH PLAIN LOGIN/);
      assert.doesNotMatch(ehlo, /STARTTLS/);
      assert.match(await client.command("MAIL FROM:<demo@edgemail.test>"), /^530 5\.7\.0 Authentication required$/);
    } finally {
      client.close();
    }
  });

  it("MAIL FROM someone else's address gets 553 5.7.1; a malformed recipient 501 5.1.3", async () => {
    const client = await authenticated465();
    try {
      assert.match(await client.command(`MAIL FROM:<${bob.address}>`), /^553 5\.7\.1 Sender address not owned by you$/);
      assert.match(await client.command("MAIL FROM:<>"), /^553 5\.7\.1 /);
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250 2\.1\.0/);
      assert.match(await client.command("RCPT TO:<not-an-address>"), /^501 5\.1\.3 /);
    } finally {
      client.close();
    }
  });

  it("more recipients than the limit: 452 4.5.3 for the extra one, the others stay accepted", async () => {
    const client = await authenticated465();
    try {
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      for (let i = 0; i < 100; i++) assert.match(await client.command(`RCPT TO:<r${i}@remote.example>`), /^250/);
      assert.match(await client.command("RCPT TO:<r100@remote.example>"), /^452 4\.5\.3 /);
      assert.match(await client.command("RSET"), /^250/);
    } finally {
      client.close();
    }
  });

  it("a header From of someone else gets 553 5.7.1 at end of DATA and nothing is stored", async () => {
    const client = await authenticated465();
    try {
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${bob.address}>`), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      const reply = await client.data(message(`Bob <${bob.address}>`, bob.address, "forged from"));
      assert.match(reply, /^553 5\.7\.1 /);
      // a mixed From (ours and someone else's) is refused as well
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${bob.address}>`), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      assert.match(await client.data(message(`${demo.address}, ${bob.address}`, bob.address, "mixed from")), /^553 5\.7\.1 /);
    } finally {
      client.close();
    }
    assert.deepEqual(
      (await inboxSubjects(bob)).filter((s) => /forged|mixed/.test(s)),
      [],
    );
  });

  it("nodemailer submits on 587 (STARTTLS + AUTH) to a local user, who reads it over IMAP", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: stack.relay!.ports.submission!,
      secure: false,
      requireTLS: true,
      auth: { user: demo.address, pass: demo.password },
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({ from: demo.address, to: bob.address, subject: "via 587", text: "Hello over STARTTLS.\r\n" });
    transport.close();
    assert.match(info.response, /^250 2\.0\.0 Queued as \S+/);
    assert.deepEqual(info.accepted, [bob.address]);
    assert.ok((await inboxSubjects(bob)).includes("via 587"));
  });

  it("nodemailer submits on 465 (implicit TLS, AUTH LOGIN); the stored copy notes ESMTPSA and has no Return-Path", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: stack.relay!.ports.submissions!,
      secure: true,
      authMethod: "LOGIN",
      auth: { user: demo.address, pass: demo.password },
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({ from: `Demo <${demo.address}>`, to: bob.address, subject: "via 465", text: "Hello over TLS.\r\n" });
    transport.close();
    assert.match(info.response, /^250 2\.0\.0 Queued as \S+/);

    const imap = await connectImap(stack, bob);
    try {
      await imap.mailboxOpen("INBOX");
      let raw = "";
      for await (const m of imap.fetch("1:*", { envelope: true, source: true })) {
        if (m.envelope?.subject === "via 465") raw = m.source!.toString("latin1");
      }
      assert.ok(raw, "the message is in bob's INBOX");
      assert.match(raw, /^Received: from client\.example|^Received: from \S+ \(\[127\.0\.0\.1\]\)/);
      assert.match(raw, /\(Authenticated sender: demo@edgemail\.test\)/);
      assert.match(raw, /with ESMTPSA id /);
      const header = raw.slice(0, raw.indexOf("\r\n\r\n"));
      assert.equal((header.match(/^Received:/gim) ?? []).length, 1);
      assert.doesNotMatch(header, /^Return-Path:/im);
    } finally {
      await imap.logout();
    }
  });

  it("a remote recipient is accepted and reported as queued", async () => {
    const client = await authenticated465();
    try {
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      assert.match(await client.command("RCPT TO:<someone@remote.example>"), /^250 2\.1\.5/);
      assert.match(await client.command(`RCPT TO:<${bob.address}>`), /^250 2\.1\.5/);
      assert.match(await client.command("DATA"), /^354/);
      const reply = await client.data(message(demo.address, "someone@remote.example", "to the world"));
      assert.match(reply, /^250 2\.0\.0 Queued as \S+$/);
    } finally {
      client.close();
    }
    assert.ok((await inboxSubjects(bob)).includes("to the world"), "the local recipient got its copy at once");
  });

  it("a message over the size limit gets 552 5.3.4", async () => {
    const client = await authenticated465();
    try {
      assert.match(await client.command(`MAIL FROM:<${demo.address}> SIZE=20000`), /^552 5\.3\.4 /);
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${bob.address}>`), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      const big = message(demo.address, bob.address, "too big") + "x".repeat(76).concat("\r\n").repeat(200);
      assert.match(await client.data(big), /^552 5\.3\.4 /);
    } finally {
      client.close();
    }
  });

  it("over the account's hourly submission limit MAIL gets 450 4.7.1", async () => {
    const client = await authenticated465();
    try {
      // the 4th submission of this hour is still accepted, the 5th is not
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^250/);
      assert.match(await client.command(`RCPT TO:<${bob.address}>`), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      assert.match(await client.data(message(demo.address, bob.address, "fourth")), /^250 2\.0\.0 Queued as /);
      assert.match(await client.command(`MAIL FROM:<${demo.address}>`), /^450 4\.7\.1 Rate limit exceeded, try later$/);
    } finally {
      client.close();
    }
  });

  // Last: it leaves this client IP locked out for the failure window.
  it("a wrong password gets 535 5.7.8; after 3 failures 454 4.7.0 without asking the edge", async () => {
    const { client } = await SmtpTranscript.openTls(stack.relay!.ports.submissions!);
    try {
      assert.match(await client.command("EHLO client.example"), /^250/);
      for (let i = 0; i < 3; i++) {
        assert.match(
          await client.command(`AUTH PLAIN ${plain(bob.address, "wrong-password")}`),
          /^535 5\.7\.8 Authentication credentials invalid$/,
        );
      }
      const before = stack.relay!.edge.stats.requests;
      assert.match(
        await client.command(`AUTH PLAIN ${plain(bob.address, "wrong-password")}`),
        /^454 4\.7\.0 Too many failed attempts, try later$/,
      );
      // even the right password, from this IP, until the window passes
      assert.match(await client.command(`AUTH PLAIN ${plain(bob.address, bob.password)}`), /^454 4\.7\.0 /);
      assert.equal(stack.relay!.edge.stats.requests, before, "the edge was not asked");
    } finally {
      client.close();
    }
  });
});
