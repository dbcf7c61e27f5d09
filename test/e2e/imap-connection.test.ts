/**
 * The IMAP connection layer as raw transcripts: SASL LOGIN, COMPRESS=DEFLATE, STARTTLS
 * discarding pipelined bytes, and malformed input that never costs a well-behaved client its
 * connection.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { createDeflateRaw, createInflateRaw, constants as zlib } from "node:zlib";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { connectImap } from "../support/imap-client.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

/** Collects everything a socket-like stream says until `done` holds. */
function until(stream: NodeJS.EventEmitter, done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) {
        clearTimeout(timer);
        stream.off("data", onData);
        resolve(text);
      }
    };
    stream.on("data", onData);
  });
}

describe("IMAP connection layer", () => {
  let stack: Stack;
  let demo: { address: string; password: string };

  before(async () => {
    stack = await startTestStack();
    demo = stack.settings().demo;
  });
  after(async () => {
    await stack.cleanup();
  });

  it("logs in with AUTHENTICATE LOGIN, one challenge at a time", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    assert.equal(await client.raw("a1 AUTHENTICATE LOGIN\r\n", /\r\n$/), "+ VXNlcm5hbWU6\r\n");
    assert.equal(await client.raw(`${b64(demo.address)}\r\n`, /\r\n$/), "+ UGFzc3dvcmQ6\r\n");
    assert.match(await client.raw(`${b64(demo.password)}\r\n`, /a1 .*\r\n/), /^a1 OK \[CAPABILITY [^\]]*COMPRESS=DEFLATE/);
    client.close();
  });

  it("cancels AUTHENTICATE with * and stays usable", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    assert.equal(await client.raw("a1 AUTHENTICATE PLAIN\r\n", /\r\n$/), "+ \r\n");
    assert.match(await client.raw("*\r\n", /a1 .*\r\n/), /^a1 BAD /);
    assert.match((await client.command("NOOP")).tagged, /OK/);
    client.close();
  });

  it("speaks deflate after COMPRESS DEFLATE, in both directions", async () => {
    const socket = tlsConnect({ port: stack.relay!.ports.imaps!, host: "127.0.0.1", rejectUnauthorized: false });
    await until(socket, (t) => t.includes("\r\n"));
    socket.write(`a1 LOGIN ${demo.address} ${demo.password}\r\n`);
    await until(socket, (t) => /a1 OK/.test(t));
    socket.write("a2 COMPRESS DEFLATE\r\n");
    assert.match(await until(socket, (t) => /a2 .*\r\n/.test(t)), /a2 OK /);
    const deflate = createDeflateRaw();
    const inflate = createInflateRaw();
    deflate.pipe(socket);
    socket.pipe(inflate);
    const reply = until(inflate, (t) => /a4 .*\r\n/.test(t));
    deflate.write("a3 SELECT INBOX\r\na4 COMPRESS DEFLATE\r\n");
    deflate.flush(zlib.Z_SYNC_FLUSH);
    const text = await reply;
    assert.match(text, /a3 OK \[READ-WRITE\]/);
    assert.match(text, /a4 NO \[COMPRESSIONACTIVE\]/);
    socket.destroy();
  });

  it("works with imapflow, which turns compression on by itself", async () => {
    const client = await connectImap(stack);
    const box = await client.mailboxOpen("INBOX");
    assert.equal(box.path, "INBOX");
    await client.logout();
  });

  it("discards bytes pipelined after STARTTLS (RFC 9051 §6.2.1)", async () => {
    const plain: Socket = connect(stack.relay!.ports.imap!, "127.0.0.1");
    await until(plain, (t) => t.includes("\r\n"));
    // The injected LOGIN must not be executed inside the TLS session.
    plain.write(`a1 STARTTLS\r\na2 LOGIN ${demo.address} ${demo.password}\r\n`);
    assert.match(await until(plain, (t) => /a1 .*\r\n/.test(t)), /a1 OK /);
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise((resolve) => secure.once("secureConnect", resolve));
    secure.write("a3 NOOP\r\n");
    const text = await until(secure, (t) => /a3 .*\r\n/.test(t));
    assert.doesNotMatch(text, /a2 /);
    secure.write("a4 SELECT INBOX\r\n");
    assert.match(await until(secure, (t) => /a4 .*\r\n/.test(t)), /a4 BAD /, "still not logged in");
    secure.destroy();
  });

  it("answers malformed commands with BAD and keeps the connection", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const garbage = [
      "a1 LOGIN (unbalanced\r\n",
      'a2 LOGIN "unterminated\r\n',
      "a3\r\n",
      "+ bad-tag NOOP\r\n",
      "a4 FETCH 1:* (FLAGS\r\n",
      "a5 " + "X".repeat(70_000) + "\r\n",
      "a6 NOSUCHCOMMAND\r\n",
      "\x00\x01\x02 binary junk\r\n",
    ];
    for (const line of garbage) {
      const reply = await client.raw(line, /(BAD|NO)[^\r\n]*\r\n$/);
      assert.match(reply, /(BAD|NO)/, JSON.stringify(line.slice(0, 30)));
    }
    assert.match((await client.command("NOOP")).tagged, /OK/);
    assert.ok(!client.closed);
    client.close();
  });
});
