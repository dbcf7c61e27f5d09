/**
 * Named IMAP limits answered with standard responses: too many connections from one address
 * (BYE [UNAVAILABLE]), too many sessions of one account (NO [LIMIT]), a command flood
 * (NO [LIMIT]) — and the connection of a client that slows down keeps working.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("IMAP limits", () => {
  let stack: Stack;
  let demo: { address: string; password: string };

  before(async () => {
    stack = await startTestStack({
      imapLimits: { maxConnectionsPerIp: 4, maxConnectionsPerAccount: 2, commandBurst: 5, commandsPerSecond: 2 },
    });
    demo = stack.settings().demo;
  });
  after(async () => {
    await stack.cleanup();
  });

  it("refuses a second account session beyond the limit with NO [LIMIT], and frees the slot on logout", async () => {
    const a = (await ImapTranscript.open(stack.relay!.ports.imaps!)).client;
    const b = (await ImapTranscript.open(stack.relay!.ports.imaps!)).client;
    const c = (await ImapTranscript.open(stack.relay!.ports.imaps!)).client;
    assert.match((await a.command(`LOGIN ${demo.address} ${demo.password}`)).tagged, /OK/);
    assert.match((await b.command(`LOGIN ${demo.address} ${demo.password}`)).tagged, /OK/);
    assert.match((await c.command(`LOGIN ${demo.address} ${demo.password}`)).tagged, /^A1 NO \[LIMIT\] /);
    await a.command("LOGOUT");
    assert.match((await c.command(`LOGIN ${demo.address} ${demo.password}`)).tagged, /^A2 OK /);
    b.close();
    c.close();
  });

  it("greets the connection over the per-address limit with BYE [UNAVAILABLE]", async () => {
    const open = await Promise.all([1, 2, 3, 4].map(() => ImapTranscript.open(stack.relay!.ports.imaps!)));
    const extra = tlsConnect({ port: stack.relay!.ports.imaps!, host: "127.0.0.1", rejectUnauthorized: false });
    const greeting = await new Promise<string>((resolve) => {
      let text = "";
      extra.on("data", (d: Buffer) => (text += d.toString()));
      extra.on("close", () => resolve(text));
      extra.on("error", () => resolve(text));
    });
    assert.match(greeting, /^\* BYE \[UNAVAILABLE\] /);
    for (const { client } of open) client.close();
  });

  it("answers a command flood with NO [LIMIT] and serves the client again once it slows down", async () => {
    await new Promise((r) => setTimeout(r, 200)); // let the previous test's sockets close
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const replies: string[] = [];
    for (let i = 0; i < 8; i++) replies.push((await client.command("NOOP")).tagged);
    assert.ok(replies.slice(0, 5).every((r) => / OK /.test(r)), replies.join("\n"));
    assert.ok(replies.slice(5).some((r) => / NO \[LIMIT\] /.test(r)), replies.join("\n"));
    await new Promise((r) => setTimeout(r, 1100));
    assert.match((await client.command("NOOP")).tagged, / OK /);
    client.close();
  });
});
