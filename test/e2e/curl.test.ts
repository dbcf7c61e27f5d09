/**
 * curl as an IMAP client (imaps:// and imap:// with STARTTLS): list, upload (APPEND), fetch
 * by UID, search and a custom command — the settings `npm start` prints, used the way a user
 * would from a shell.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);
type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("curl imap://", () => {
  let stack: Stack;
  let work: string;
  let user: string;

  /** Runs curl asynchronously (the relay under test lives in this process). */
  async function curl(url: string, ...extra: string[]): Promise<string> {
    const { stdout } = await run("curl", ["-sS", "--cacert", stack.settings().certificate, "-k", "--user", user, ...extra, url]);
    return stdout;
  }

  before(async () => {
    stack = await startTestStack();
    const s = stack.settings();
    user = `${s.demo.address}:${s.demo.password}`;
    work = await mkdtemp(join(tmpdir(), "edgemail-curl-"));
  });
  after(async () => {
    await stack.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("lists the mailboxes over implicit TLS", async () => {
    const out = await curl(`imaps://127.0.0.1:${stack.relay!.ports.imaps}/`);
    assert.match(out, /\* LIST \(\\HasNoChildren\) "\/" INBOX\r\n/);
    assert.match(out, /\* LIST \(\\HasNoChildren \\Trash\) "\/" Trash\r\n/);
  });

  it("uploads a message with APPEND and fetches it back by UID over STARTTLS", async () => {
    const file = join(work, "note.eml");
    const message = "From: me@example.org\r\nSubject: curl upload\r\n\r\nUploaded with curl.\r\n";
    await writeFile(file, message);
    await curl(`imaps://127.0.0.1:${stack.relay!.ports.imaps}/INBOX`, "-T", file);
    const fetched = await curl(`imap://127.0.0.1:${stack.relay!.ports.imap}/INBOX;UID=1`, "--ssl-reqd");
    assert.equal(fetched, message);
  });

  it("searches and runs a custom command", async () => {
    const found = await curl(`imaps://127.0.0.1:${stack.relay!.ports.imaps}/INBOX?SUBJECT%20curl`);
    assert.match(found, /^\* SEARCH 1\r\n/);
    const status = await curl(`imaps://127.0.0.1:${stack.relay!.ports.imaps}/`, "-X", "STATUS INBOX (MESSAGES UIDNEXT)");
    assert.match(status, /\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2\)/);
  });
});
