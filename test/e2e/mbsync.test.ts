/**
 * A real sync tool against the real stack: mbsync (Debian isync) pulls a 2,000-message
 * mailbox into a local Maildir, flag changes made on each side reach the other, and a
 * re-sync after that transfers nothing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ImapFlow } from "imapflow";
import { fillInbox } from "../support/fill.ts";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);
type Stack = Awaited<ReturnType<typeof startTestStack>>;
const COUNT = 2000;

/** mbsync's closing summary: "far side: +N *N #N -N" style counters, as isync 1.4 prints with -V. */
async function mbsync(rc: string): Promise<string> {
  // Async on purpose: the relay under test runs in this process and must keep answering.
  const { stdout, stderr } = await run("mbsync", ["-V", "-c", rc, "inbox"], { maxBuffer: 64 * 1024 * 1024 });
  return stdout + stderr;
}

async function maildirFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["cur", "new"]) for (const f of await readdir(join(dir, sub))) out.push(join(dir, sub, f));
  return out;
}

describe("mbsync two-way sync", () => {
  let stack: Stack;
  let work: string;
  let rc: string;
  let client: ImapFlow;

  before(async () => {
    stack = await startTestStack();
    const s = stack.settings();
    await fillInbox(stack.relay!.edge, s.demo.address, COUNT);
    work = await mkdtemp(join(tmpdir(), "edgemail-mbsync-"));
    rc = join(work, "mbsyncrc");
    await mkdir(join(work, "mail"));
    await writeFile(
      rc,
      [
        "IMAPAccount edge",
        "Host 127.0.0.1",
        `Port ${stack.relay!.ports.imaps}`,
        `User ${s.demo.address}`,
        `Pass ${s.demo.password}`,
        "SSLType IMAPS",
        `CertificateFile ${s.certificate}`,
        "",
        "IMAPStore remote",
        "Account edge",
        "",
        "MaildirStore local",
        `Path ${work}/mail/`,
        `Inbox ${work}/mail/INBOX`,
        "",
        "Channel inbox",
        "Far :remote:INBOX",
        "Near :local:INBOX",
        "Create Both",
        "Expunge Both",
        "SyncState *",
        "Sync All",
        "",
      ].join("\n"),
    );
    client = new ImapFlow({
      host: "127.0.0.1",
      port: stack.relay!.ports.imaps!,
      secure: true,
      auth: { user: s.demo.address, pass: s.demo.password },
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    await client.connect();
    await client.mailboxOpen("INBOX");
  });
  after(async () => {
    await client?.logout();
    await stack.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it(`pulls all ${COUNT} messages into the Maildir`, async () => {
    await mbsync(rc);
    assert.equal((await maildirFiles(join(work, "mail/INBOX"))).length, COUNT);
  });

  it("carries flag changes both ways", async () => {
    // Near side: flag the first 10 files mbsync wrote (Maildir info suffix ":2,F").
    const files = (await maildirFiles(join(work, "mail/INBOX"))).sort().slice(0, 10);
    for (const f of files) {
      const base = f.replace(/:2,[A-Z]*$/, "");
      const flags = (/:2,([A-Z]*)$/.exec(f)?.[1] ?? "") + "F";
      await rename(f, `${base}:2,${[...new Set(flags)].sort().join("")}`);
    }
    // Far side: mark messages 1001..1020 seen over IMAP.
    await client.messageFlagsAdd("1001:1020", ["\\Seen"]);
    await new Promise((r) => setTimeout(r, 1100)); // Maildir mtime granularity: mbsync waits otherwise
    await mbsync(rc);

    const flagged = await client.search({ flagged: true }, { uid: true });
    assert.equal(Array.isArray(flagged) ? flagged.length : 0, 10, "the near side's flags reached the server");
    const seenLocally = (await maildirFiles(join(work, "mail/INBOX"))).filter((f) => /:2,[A-Z]*S[A-Z]*$/.test(f));
    assert.equal(seenLocally.length, 20, "the server's \\Seen reached the Maildir");
  });

  it("re-syncs without transferring anything", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const edge = stack.relay!.edge;
    const before = { reads: edge.stats.rawReads, inbox: (await edge.selectMailbox(1, "INBOX")).mailbox };
    const out = await mbsync(rc);
    assert.match(out, /far side: 2000 messages/);
    assert.match(out, /near side: 2000 messages/);
    assert.equal((await maildirFiles(join(work, "mail/INBOX"))).length, COUNT);
    assert.equal(edge.stats.rawReads - before.reads, 0, "no message body was read");
    const after = (await edge.selectMailbox(1, "INBOX")).mailbox;
    assert.equal(after.highestmodseq, before.inbox.highestmodseq, "no flag or message changed at the edge");
    assert.equal(after.uidnext, before.inbox.uidnext, "nothing was uploaded");
  });
});
