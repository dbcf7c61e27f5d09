/**
 * The session under fire: a logged-in connection to the real relay receives 200 mutated
 * commands. After each one a sentinel NOOP must still be answered — the mutated command got
 * its tagged or untagged response and neither the connection nor the process went down.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  "SELECT INBOX",
  "EXAMINE Sent",
  "UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.100> BODYSTRUCTURE ENVELOPE)",
  "FETCH 1 (BODY.PEEK[1.MIME] RFC822.SIZE INTERNALDATE)",
  "STORE 1 +FLAGS.SILENT (\\Seen $Forwarded)",
  'LIST "" "*"',
  "NOOP",
  "CAPABILITY",
  'LOGIN "x" {3}\r\nabc',
];
const NOISE = Buffer.from('()[]{}<>"\\*%+~ 0123456789ABCXYZabc.:,$\x00\x7f\xc3\xa9');

function mutate(next: () => number, base: string): Buffer {
  let bytes = Buffer.from(base, "latin1");
  for (let i = 0, n = 1 + Math.floor(next() * 3); i < n; i++) {
    const at = Math.floor(next() * (bytes.length + 1));
    const r = next();
    if (r < 0.35) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else if (r < 0.75) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(NOISE[Math.floor(next() * NOISE.length)]!), bytes.subarray(at)]);
    else if (r < 0.85) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(`{${Math.floor(next() * 30)}}\r\n`), bytes.subarray(at)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

describe("IMAP session fuzzing", () => {
  let stack: Stack;
  let socket: TLSSocket;
  let received = "";

  before(async () => {
    stack = await startTestStack();
    const demo = stack.settings().demo;
    socket = tlsConnect({ port: stack.relay!.ports.imaps!, host: "127.0.0.1", rejectUnauthorized: false });
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    await waitFor(/^\* OK/m, 5000);
    socket.write(`l1 LOGIN ${demo.address} ${demo.password}\r\n`);
    await waitFor(/^l1 OK/m, 5000);
  });
  after(async () => {
    socket.destroy();
    await stack.cleanup();
  });

  async function waitFor(pattern: RegExp, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pattern.test(received)) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  it("answers every mutated command and stays up", async () => {
    const next = rng(7);
    for (let i = 0; i < 200; i++) {
      received = "";
      const tag = `f${i}`;
      socket.write(Buffer.concat([Buffer.from(`${tag} `), mutate(next, SEEDS[Math.floor(next() * SEEDS.length)]!), Buffer.from("\r\n")]));
      const sentinel = new RegExp(`^z${i} OK`, "m");
      socket.write(`z${i} NOOP\r\n`);
      if (await waitFor(sentinel, 400)) continue;
      // A mutated literal or an AUTHENTICATE-like exchange may have swallowed the sentinel:
      // complete any literal with blank lines (ignored between commands) and ask again.
      socket.write("\r\n".repeat(40) + `z${i} NOOP\r\n`);
      assert.ok(await waitFor(sentinel, 3000), `no answer after ${JSON.stringify(received.slice(-300))}`);
    }
    assert.ok(!socket.destroyed, "the connection survived");
  });
});
