/**
 * Python's standard imaplib, a strict and old-fashioned client, through a whole session:
 * LIST, CREATE with a parent, APPEND with flags and a date, SELECT, UID SEARCH, UID FETCH
 * RFC822, UID STORE, UID COPY, STATUS, EXPUNGE, CLOSE, DELETE.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);
type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("Python imaplib", () => {
  let stack: Stack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack.cleanup();
  });

  it("runs a full session", async () => {
    const s = stack.settings();
    // Async: the relay under test runs in this process.
    const { stdout } = await run("python3", [fileURLToPath(new URL("../clients/imaplib_session.py", import.meta.url))], {
      env: {
        ...process.env,
        IMAP_HOST: "127.0.0.1",
        IMAP_PORT: String(stack.relay!.ports.imaps),
        IMAP_USER: s.demo.address,
        IMAP_PASSWORD: s.demo.password,
        IMAP_CAFILE: s.certificate,
      },
    });
    const r = JSON.parse(stdout) as Record<string, unknown>;
    assert.ok((r.capabilities as string[]).includes("IMAP4REV1"));
    assert.equal(r.login, "OK");
    assert.ok((r.list as string[]).includes('(\\HasNoChildren \\Sent) "/" Sent'), String(r.list));
    assert.equal(r.create, "OK");
    assert.match((r.append as string[])[1] ?? "", /^\[APPENDUID \d+ 1\]/);
    assert.deepEqual(r.select, ["OK", "1"]);
    assert.deepEqual(r.search, ["OK", "1"]);
    const fetch = r.fetch as [string, string, boolean, string];
    assert.equal(fetch[0], "OK");
    assert.equal(fetch[1], "from imaplib");
    assert.equal(fetch[2], true, "RFC822 returns the appended octets unchanged");
    // This session was the first to select the mailbox since the APPEND, so the message is \Recent to it.
    assert.match(fetch[3], /FLAGS \(\\Flagged \\Seen \\Recent\)/, "a non-PEEK RFC822 fetch sets \\Seen");
    assert.match((r.store as string[])[1] ?? "", /FLAGS \(\\Answered \\Flagged \\Seen \\Recent\)/);
    assert.equal(r.copy, "OK");
    assert.match((r.status as string[])[1] ?? "", /^"?INBOX"? \(MESSAGES 1 UIDNEXT 2 UNSEEN 0\)$/);
    assert.deepEqual(r.expunge, ["OK", ["1"]]);
    assert.equal(r.close, "OK");
    assert.equal(r.delete, "OK");
    assert.equal(r.logout, "BYE");
  });
});
