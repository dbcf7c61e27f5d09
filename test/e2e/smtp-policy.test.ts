/**
 * The MX policy as a raw transcript: only our domains' users are accepted, at RCPT time, with
 * the standard reply codes; oversized messages are refused with 552 5.3.4.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("MX policy", () => {
  let stack: Stack;
  let client: SmtpTranscript;

  before(async () => {
    stack = await startTestStack({ smtpLimits: { maxMessageBytes: 10_000 } });
    const opened = await SmtpTranscript.open(stack.relay!.ports.mx!);
    client = opened.client;
    assert.match(opened.greeting, /^220 mx\.edgemail\.test /);
    const ehlo = await client.command("EHLO remote.example");
    assert.match(ehlo, /^250-mx\.edgemail\.test/);
    assert.match(ehlo, /STARTTLS/);
    assert.match(ehlo, /SIZE 10000/);
    assert.match(ehlo, /ENHANCEDSTATUSCODES/);
    assert.doesNotMatch(ehlo, /AUTH/, "the MX offers no AUTH");
  });
  after(async () => {
    client.close();
    await stack.cleanup();
  });

  it("refuses an unknown user of our domain at RCPT with 550 5.1.1", async () => {
    assert.match(await client.command("MAIL FROM:<x@remote.example>"), /^250 2\.1\.0/);
    assert.match(await client.command("RCPT TO:<nobody@edgemail.test>"), /^550 5\.1\.1 /);
  });

  it("refuses a foreign domain at RCPT with 550 5.7.1 (no open relay)", async () => {
    assert.match(await client.command("RCPT TO:<victim@elsewhere.example>"), /^550 5\.7\.1 Relaying denied/);
  });

  it("accepts a local user, case-insensitively", async () => {
    assert.match(await client.command("RCPT TO:<Demo@EdgeMail.test>"), /^250 2\.1\.5/);
  });

  it("refuses a message over the size limit with 552 5.3.4 and stores nothing", async () => {
    assert.match(await client.command("DATA"), /^354/);
    const big = "Subject: big\r\n\r\n" + "x".repeat(76).concat("\r\n").repeat(200);
    assert.match(await client.data(big), /^552 5\.3\.4 /);
    assert.match(await client.command("RSET"), /^250/);
    const snapshot = await stack.relay!.edge.selectMailbox(1, "INBOX");
    assert.equal(snapshot.messages.length, 0);
  });

  it("refuses a declared SIZE over the limit at MAIL FROM", async () => {
    assert.match(await client.command("MAIL FROM:<x@remote.example> SIZE=20000"), /^552 5\.3\.4 /);
  });
});
