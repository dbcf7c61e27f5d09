/**
 * Addressing end to end, through the real MX: plus-addressing, postmaster, aliases (to two
 * accounts, to an external address), catch-all, domain aliases — each changed through the
 * admin API between messages, each taking effect on the next RCPT with no restart.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LeaseResult } from "../../common/contract.ts";
import { connectImap } from "../support/imap-client.ts";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("addressing through the MX", () => {
  let stack: Stack;
  const alice = { address: "alice@edgemail.test", password: "alice-password-1" };
  const bob = { address: "bob@edgemail.test", password: "bob-password-123" };
  let n = 0;

  before(async () => {
    stack = await startTestStack();
    await stack.admin("POST", "/accounts", alice);
    await stack.admin("POST", "/accounts", bob);
  });
  after(async () => {
    await stack.cleanup();
  });

  /** One SMTP transaction; returns the RCPT reply, and the subject sent when it was accepted. */
  async function send(rcpt: string): Promise<{ rcpt: string; subject: string | null }> {
    const { client } = await SmtpTranscript.open(stack.relay!.ports.mx!);
    try {
      await client.command("EHLO sender.example");
      assert.match(await client.command("MAIL FROM:<someone@sender.example>"), /^250/);
      const reply = await client.command(`RCPT TO:<${rcpt}>`);
      if (!reply.startsWith("250")) return { rcpt: reply, subject: null };
      assert.match(await client.command("DATA"), /^354/);
      const subject = `addressing ${++n} for ${rcpt}`;
      const data = await client.data(`From: someone@sender.example\r\nTo: ${rcpt}\r\nSubject: ${subject}\r\nMessage-ID: <a${n}@sender.example>\r\n\r\nHi.\r\n`);
      assert.match(data, /^250 /);
      return { rcpt: reply, subject };
    } finally {
      client.close();
    }
  }

  async function subjects(user: { address: string; password: string }, mailbox = "INBOX"): Promise<string[]> {
    const imap = await connectImap(stack, user);
    try {
      const box = await imap.mailboxOpen(mailbox);
      if (box.exists === 0) return [];
      const out: string[] = [];
      for await (const m of imap.fetch("1:*", { envelope: true })) out.push(m.envelope?.subject ?? "");
      return out;
    } finally {
      await imap.logout();
    }
  }

  const demo = () => stack.settings().demo;

  it("plus-addressing: user+tag reaches user; another delimiter set through the admin API applies to the next RCPT", async () => {
    const plus = await send("alice+news@edgemail.test");
    assert.ok((await subjects(alice)).includes(plus.subject!));

    await stack.admin("PATCH", "/domains/edgemail.test", { plusDelimiter: "-" });
    const dash = await send("alice-lists@edgemail.test");
    assert.ok((await subjects(alice)).includes(dash.subject!));
    assert.match((await send("alice+news@edgemail.test")).rcpt, /^550 5\.1\.1 /);
    await stack.admin("PATCH", "/domains/edgemail.test", { plusDelimiter: "+" });
  });

  it("postmaster exists on every domain (RFC 5321 §4.5.1)", async () => {
    const sent = await send("postmaster@edgemail.test");
    assert.ok((await subjects(demo())).includes(sent.subject!));
  });

  it("an alias to two accounts: one message, one copy in each INBOX", async () => {
    assert.match((await send("team@edgemail.test")).rcpt, /^550 5\.1\.1 /);
    await stack.admin("POST", "/aliases", { address: "team@edgemail.test", targets: [alice.address, bob.address] });
    const sent = await send("team@edgemail.test");
    assert.equal((await subjects(alice)).filter((s) => s === sent.subject).length, 1);
    assert.equal((await subjects(bob)).filter((s) => s === sent.subject).length, 1);
    await stack.admin("DELETE", "/aliases/team@edgemail.test", undefined, [204]);
    assert.match((await send("team@edgemail.test")).rcpt, /^550 5\.1\.1 /);
  });

  it("an alias to an external address: accepted and queued for delivery with an SRS sender", async () => {
    await stack.admin("POST", "/aliases", { address: "fwd@edgemail.test", targets: ["carol@remote.example"] });
    await send("fwd@edgemail.test");
    const response = await fetch(`${stack.edgeUrl}/relay/v1/outbound/lease`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.secrets.relayKey}`, "content-type": "application/json" },
      body: JSON.stringify({ relayId: "test", max: 10 }),
    });
    const { jobs } = (await response.json()) as LeaseResult;
    const job = jobs.find((j) => j.recipients.includes("carol@remote.example"));
    assert.ok(job, JSON.stringify(jobs));
    assert.match(job.mailFrom, /^SRS0=[^=]+=[^=]+=sender\.example=someone@edgemail\.test$/i);
  });

  it("catch-all: off by default, on and off again through the admin API", async () => {
    assert.match((await send("nobody-here@edgemail.test")).rcpt, /^550 5\.1\.1 /);
    await stack.admin("PATCH", "/domains/edgemail.test", { catchAll: bob.address });
    const sent = await send("nobody-here@edgemail.test");
    assert.ok((await subjects(bob)).includes(sent.subject!));
    await stack.admin("PATCH", "/domains/edgemail.test", { catchAll: null });
    assert.match((await send("nobody-here@edgemail.test")).rcpt, /^550 5\.1\.1 /);
  });

  it("a domain alias: user@mirror reaches user@target; an unknown domain is relaying denied", async () => {
    assert.match((await send("bob@mirror.test")).rcpt, /^550 5\.7\.1 /);
    await stack.admin("POST", "/domains", { name: "mirror.test" });
    await stack.admin("PATCH", "/domains/mirror.test", { aliasOf: "edgemail.test" });
    const sent = await send("bob@mirror.test");
    assert.ok((await subjects(bob)).includes(sent.subject!));
  });
});
