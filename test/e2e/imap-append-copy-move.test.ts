/**
 * Putting messages into mailboxes and taking them out, as raw transcripts against the real
 * edge and relay: APPEND with synchronising and LITERAL+ literals, literal8, MULTIAPPEND (all
 * or nothing) and APPENDUID; COPY with COPYUID; MOVE with its EXPUNGE or VANISHED responses;
 * EXPUNGE, UID EXPUNGE and CLOSE; the storage quota. Then the same from a real client,
 * imapflow.
 *
 * The relay runs with a 64 KiB literal limit, so APPENDLIMIT is easy to reach.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImapFlow } from "imapflow";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Reply = Awaited<ReturnType<ImapTranscript["command"]>>;

const LIMIT = 64 * 1024;
const PASSWORD = "append-password-1";

/** Asserts the whole response: the untagged lines, then the tagged line (written without its tag). */
function answer(reply: Reply, ...lines: string[]): void {
  const expected = lines.map((line, i) => (i === lines.length - 1 ? `${reply.tag} ${line}` : line));
  assert.equal(reply.lines, expected.join("\r\n") + "\r\n");
}

function message(subject: string, body = "Hello.\r\n"): string {
  return `From: a@example.org\r\nSubject: ${subject}\r\n\r\n${body}`;
}

/** `{n+}\r\n<text>`: a LITERAL+ literal, ready to go into a command line. */
function lit(text: string): string {
  return `{${Buffer.byteLength(text)}+}\r\n${text}`;
}

describe("IMAP APPEND, COPY, MOVE, EXPUNGE and quota", () => {
  let stack: Stack;
  let accounts = 0;

  /** A new account, logged in on a new connection. */
  async function login(): Promise<{ client: ImapTranscript; address: string; id: number }> {
    const address = `acm${++accounts}@edgemail.test`;
    const created = await stack.admin("POST", "/accounts", { address, password: PASSWORD });
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    assert.match((await client.command(`LOGIN ${address} ${PASSWORD}`)).tagged, /^A1 OK /);
    return { client, address, id: (created.json as { id: number }).id };
  }

  async function uidvalidity(client: ImapTranscript, mailbox: string): Promise<string> {
    return /UIDVALIDITY (\d+)/.exec((await client.command(`STATUS ${mailbox} (UIDVALIDITY)`)).lines)![1]!;
  }

  async function fill(client: ImapTranscript, mailbox: string, count: number): Promise<void> {
    const parts = Array.from({ length: count }, (_, i) => lit(message(`message ${i + 1}`)));
    assert.match((await client.command(`APPEND ${mailbox} ${parts.join(" ")}`)).tagged, / OK \[APPENDUID /);
  }

  before(async () => {
    stack = await startTestStack({ imapLimits: { maxLiteralSize: LIMIT } });
  });
  after(async () => {
    await stack.cleanup();
  });

  it("APPEND with a synchronising literal waits for the continuation and stores flags and date", async () => {
    const { client } = await login();
    const v = await uidvalidity(client, "INBOX");
    const text = message("synchronising");
    const prompt = await client.raw(`T1 APPEND INBOX (\\Seen $Work) " 5-Mar-2026 10:00:00 +0100" {${Buffer.byteLength(text)}}\r\n`, /\r\n/);
    assert.equal(prompt, "+ Ready for literal data\r\n");
    const done = await client.raw(`${text}\r\n`, /T1 [^\r\n]*\r\n/);
    assert.equal(done, `T1 OK [APPENDUID ${v} 1] Append completed.\r\n`);
    await client.command("EXAMINE INBOX");
    const fetched = await client.command("UID FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])");
    assert.match(fetched.lines, /FLAGS \([^)]*\\Seen[^)]*\$Work[^)]*\)/);
    assert.match(fetched.lines, /INTERNALDATE "05-Mar-2026 09:00:00 \+0000"/);
    assert.match(fetched.lines, new RegExp(`RFC822\\.SIZE ${Buffer.byteLength(text)}\\b`));
    assert.ok(fetched.lines.includes(`{${Buffer.byteLength(text)}}\r\n${text}`), "the octets are stored unchanged");
    client.close();
  });

  it("APPEND with a LITERAL+ literal needs no continuation; bare LF is stored as CRLF; literal8 is taken as it comes", async () => {
    const { client } = await login();
    const v = await uidvalidity(client, "INBOX");
    const bare = "Subject: bare\n\nline one\nline two\n";
    answer(await client.command(`APPEND INBOX ${lit(bare)}`), `OK [APPENDUID ${v} 1] Append completed.`);
    const crlf = bare.replace(/\n/g, "\r\n");
    answer(await client.command("STATUS INBOX (SIZE)"), `* STATUS INBOX (SIZE ${crlf.length})`, "OK Status completed.");
    const binary = "Subject: Grüße\r\nContent-Transfer-Encoding: binary\r\n\r\nGrüße aus Köln\r\n";
    const r = await client.command(`APPEND INBOX ~{${Buffer.byteLength(binary)}+}\r\n${binary}`);
    answer(r, `OK [APPENDUID ${v} 2] Append completed.`);
    await client.command("EXAMINE INBOX");
    const fetched = await client.command("UID FETCH 2 BODY.PEEK[]");
    assert.ok(Buffer.from(fetched.lines, "latin1").toString("utf8").includes(binary));
    client.close();
  });

  it("MULTIAPPEND stores several messages in one command, with synchronising literals too", async () => {
    const { client } = await login();
    const v = await uidvalidity(client, "INBOX");
    answer(
      await client.command(
        `APPEND INBOX (\\Flagged) ${lit(message("one"))} (\\Seen \\Recent) " 1-Jan-2026 00:00:00 +0000" ${lit(message("two"))} ${lit(message("three"))}`,
      ),
      `OK [APPENDUID ${v} 1:3] Append completed.`,
    );
    const t = await uidvalidity(client, "Trash");
    const first = message("sync one");
    const second = message("sync two");
    assert.equal(await client.raw(`M1 APPEND Trash {${Buffer.byteLength(first)}}\r\n`, /\r\n/), "+ Ready for literal data\r\n");
    assert.equal(await client.raw(`${first} {${Buffer.byteLength(second)}}\r\n`, /\r\n/), "+ Ready for literal data\r\n");
    assert.equal(await client.raw(`${second}\r\n`, /M1 [^\r\n]*\r\n/), `M1 OK [APPENDUID ${t} 1:2] Append completed.\r\n`);
    answer(await client.command("STATUS INBOX (MESSAGES UNSEEN)"), "* STATUS INBOX (MESSAGES 3 UNSEEN 2)", "OK Status completed.");
    client.close();
  });

  it("MULTIAPPEND to a mailbox that does not exist stores nothing and answers TRYCREATE", async () => {
    const { client } = await login();
    answer(await client.command(`APPEND Nope ${lit(message("a"))} ${lit(message("b"))}`), "NO [TRYCREATE] Mailbox does not exist");
    answer(await client.command(`APPEND "Nope/Deeper" ${lit(message("a"))}`), "NO [TRYCREATE] Mailbox does not exist");
    client.close();
  });

  it("APPEND to the selected mailbox reports the new message before the tagged OK", async () => {
    const { client } = await login();
    const v = await uidvalidity(client, "INBOX");
    await fill(client, "INBOX", 1);
    await client.command("SELECT INBOX");
    answer(await client.command(`APPEND INBOX ${lit(message("while selected"))}`), "* 2 EXISTS", `OK [APPENDUID ${v} 2] Append completed.`);
    client.close();
  });

  it("APPEND refuses malformed arguments with BAD and messages above APPENDLIMIT with TOOBIG", async () => {
    const { client } = await login();
    answer(await client.command(`APPEND INBOX (\\Bogus) ${lit(message("x"))}`), "BAD Unknown system flag \\Bogus");
    answer(await client.command(`APPEND INBOX "31-Feb-2026 10:00:00 +0000" ${lit(message("x"))}`), "BAD Invalid date-time");
    answer(await client.command("APPEND INBOX"), "BAD APPEND needs a message");
    answer(await client.command("APPEND INBOX (\\Seen)"), "BAD Expected a message literal, got end of command");
    answer(await client.command(`APPEND INBOX UTF8 (${lit(message("x"))})`), "BAD UTF8 data needs ENABLE UTF8=ACCEPT first");
    answer(await client.command("STATUS INBOX (APPENDLIMIT)"), `* STATUS INBOX (APPENDLIMIT ${LIMIT})`, "OK Status completed.");
    // Within the literal limit as sent, above it once every LF became CRLF.
    const lines = "Subject: big\n\n" + "a\n".repeat(30_000);
    answer(await client.command(`APPEND INBOX ${lit(lines)}`), `NO [TOOBIG] Message is larger than the limit of ${LIMIT} octets`);
    answer(await client.command("STATUS INBOX (MESSAGES)"), "* STATUS INBOX (MESSAGES 0)", "OK Status completed.");
    // RFC 6855 §4: once UTF8=ACCEPT is on, APPEND takes UTF8 (literal8).
    answer(await client.command("ENABLE UTF8=ACCEPT"), "* ENABLED UTF8=ACCEPT", "OK Enable completed.");
    const v = await uidvalidity(client, "INBOX");
    answer(await client.command(`APPEND INBOX UTF8 (~${lit("Subject: Ünïcödé\r\n\r\nbody\r\n")})`), `OK [APPENDUID ${v} 1] Append completed.`);
    client.close();
  });

  it("COPY answers COPYUID; a missing target is TRYCREATE; copying into the selected mailbox shows EXISTS", async () => {
    const { client } = await login();
    await client.command("CREATE Archive");
    const archive = await uidvalidity(client, "Archive");
    const inbox = await uidvalidity(client, "INBOX");
    await fill(client, "INBOX", 3);
    await client.command("SELECT INBOX");
    answer(await client.command("UID COPY 1:3 Archive"), `OK [COPYUID ${archive} 1:3 1:3] Copy completed.`);
    answer(await client.command("COPY 3,1 Archive"), `OK [COPYUID ${archive} 1,3 4:5] Copy completed.`);
    answer(await client.command("COPY 1 Nope"), "NO [TRYCREATE] Mailbox does not exist");
    answer(await client.command("UID COPY 99 Archive"), "OK Copy completed.");
    answer(await client.command("UID COPY 2 inbox"), "* 4 EXISTS", `OK [COPYUID ${inbox} 2 4] Copy completed.`);
    answer(await client.command("STATUS Archive (MESSAGES)"), "* STATUS Archive (MESSAGES 5)", "OK Status completed.");
    client.close();
  });

  it("MOVE sends COPYUID first, then EXPUNGE for each message, then OK; never from a read-only mailbox", async () => {
    const { client } = await login();
    const trash = await uidvalidity(client, "Trash");
    await fill(client, "INBOX", 4);
    await client.command("SELECT INBOX");
    answer(
      await client.command("MOVE 2:3 Trash"),
      `* OK [COPYUID ${trash} 2:3 1:2] Moved UIDs.`,
      "* 3 EXPUNGE",
      "* 2 EXPUNGE",
      "OK Move completed.",
    );
    answer(await client.command("UID MOVE 4 Trash"), `* OK [COPYUID ${trash} 4 3] Moved UIDs.`, "* 2 EXPUNGE", "OK Move completed.");
    answer(await client.command("UID MOVE 2:4 Trash"), "OK Move completed.");
    answer(await client.command("MOVE 1 Nope"), "NO [TRYCREATE] Mailbox does not exist");
    await client.command("EXAMINE INBOX");
    answer(await client.command("MOVE 1 Trash"), "NO [READ-ONLY] Mailbox is read-only");
    answer(await client.command("STATUS Trash (MESSAGES)"), "* STATUS Trash (MESSAGES 3)", "OK Status completed.");
    client.close();
  });

  it("after ENABLE QRESYNC, MOVE and UID EXPUNGE report VANISHED and the tagged OK carries HIGHESTMODSEQ", async () => {
    const { client } = await login();
    const trash = await uidvalidity(client, "Trash");
    await fill(client, "INBOX", 3);
    answer(await client.command("ENABLE QRESYNC"), "* ENABLED QRESYNC", "OK Enable completed.");
    const selected = await client.command("SELECT INBOX");
    const before = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.lines)![1]);
    const moved = await client.command("UID MOVE 1:2 Trash");
    const m = new RegExp(
      `^\\* OK \\[COPYUID ${trash} 1:2 1:2\\] Moved UIDs\\.\\r\\n\\* VANISHED 1:2\\r\\n${moved.tag} OK \\[HIGHESTMODSEQ (\\d+)\\] Move completed\\.\\r\\n$`,
    ).exec(moved.lines);
    assert.ok(m, moved.lines);
    assert.ok(Number(m[1]) > before);
    await client.command("UID STORE 3 +FLAGS.SILENT (\\Deleted)");
    const expunged = await client.command("UID EXPUNGE 3");
    assert.match(expunged.lines, new RegExp(`^\\* VANISHED 3\\r\\n${expunged.tag} OK \\[HIGHESTMODSEQ \\d+\\] Expunge completed\\.\\r\\n$`));
    client.close();
  });

  it("EXPUNGE, UID EXPUNGE and CLOSE remove \\Deleted messages; UNSELECT and read-only mailboxes do not", async () => {
    const { client } = await login();
    await fill(client, "INBOX", 4);
    await client.command("SELECT INBOX");
    await client.command("STORE 1:4 +FLAGS.SILENT (\\Deleted)");
    answer(await client.command("UID EXPUNGE 2:3"), "* 3 EXPUNGE", "* 2 EXPUNGE", "OK Expunge completed.");
    await client.command("STORE 1 -FLAGS.SILENT (\\Deleted)");
    answer(await client.command("EXPUNGE"), "* 2 EXPUNGE", "OK Expunge completed.");
    answer(await client.command("EXPUNGE"), "OK Expunge completed.");
    await fill(client, "INBOX", 2);
    await client.command("NOOP");
    await client.command("STORE 1:2 +FLAGS.SILENT (\\Deleted)");
    answer(await client.command("UNSELECT"), "OK Unselect completed.");
    answer(await client.command("STATUS INBOX (MESSAGES DELETED)"), "* STATUS INBOX (MESSAGES 3 DELETED 2)", "OK Status completed.");
    await client.command("EXAMINE INBOX");
    answer(await client.command("EXPUNGE"), "NO [READ-ONLY] Mailbox is read-only");
    answer(await client.command("CLOSE"), "OK Close completed.");
    answer(await client.command("STATUS INBOX (MESSAGES DELETED)"), "* STATUS INBOX (MESSAGES 3 DELETED 2)", "OK Status completed.");
    await client.command("SELECT INBOX");
    answer(await client.command("CHECK"), "OK Check completed.");
    answer(await client.command("CLOSE"), "OK Close completed.");
    answer(await client.command("STATUS INBOX (MESSAGES DELETED)"), "* STATUS INBOX (MESSAGES 1 DELETED 0)", "OK Status completed.");
    answer(await client.command("EXPUNGE"), "BAD EXPUNGE is not valid in the authenticated state");
    client.close();
  });

  it("quota: one root for the account, STORAGE in KiB, OVERQUOTA for APPEND and COPY, no SETQUOTA", async () => {
    const { client, id } = await login();
    answer(await client.command("GETQUOTAROOT INBOX"), "* QUOTAROOT INBOX", "OK Getquotaroot completed.");
    answer(await client.command('GETQUOTA ""'), "NO [NONEXISTENT] No such quota root");
    await stack.admin("PUT", `/accounts/${id}/quota`, { storageBytes: 4096 });
    const kilobyte = message("one KiB", "x".repeat(1000 - message("one KiB", "").length));
    assert.equal(kilobyte.length, 1000);
    assert.match((await client.command(`APPEND INBOX ${lit(kilobyte)}`)).tagged, / OK \[APPENDUID /);
    answer(
      await client.command("GETQUOTAROOT inbox"),
      '* QUOTAROOT INBOX ""',
      '* QUOTA "" (STORAGE 1 4)',
      "OK Getquotaroot completed.",
    );
    answer(await client.command('GETQUOTA ""'), '* QUOTA "" (STORAGE 1 4)', "OK Getquota completed.");
    // 1000 octets used of 4096: four more would pass the limit, so none of them is stored.
    answer(await client.command(`APPEND INBOX ${[1, 2, 3, 4].map(() => lit(kilobyte)).join(" ")}`), "NO [OVERQUOTA] Quota exceeded");
    answer(await client.command("STATUS INBOX (MESSAGES)"), "* STATUS INBOX (MESSAGES 1)", "OK Status completed.");
    await client.command("SELECT INBOX");
    for (let i = 0; i < 3; i++) assert.match((await client.command("COPY 1 Trash")).tagged, / OK \[COPYUID /);
    answer(await client.command("COPY 1 Trash"), "NO [OVERQUOTA] Quota exceeded");
    answer(await client.command('GETQUOTA ""'), '* QUOTA "" (STORAGE 4 4)', "OK Getquota completed.");
    answer(await client.command('GETQUOTA "other"'), "NO [NONEXISTENT] No such quota root");
    answer(await client.command("GETQUOTAROOT Nope"), "NO [NONEXISTENT] Mailbox does not exist");
    answer(await client.command('SETQUOTA "" (STORAGE 100000)'), "NO [NOPERM] Quotas are set by the administrator");
    client.close();
  });

  it("imapflow creates, renames, appends to and moves between mailboxes, names with umlauts included", async () => {
    const address = `acm${++accounts}@edgemail.test`;
    await stack.admin("POST", "/accounts", { address, password: PASSWORD });
    const client = new ImapFlow({
      host: "127.0.0.1",
      port: stack.relay!.ports.imaps!,
      secure: true,
      auth: { user: address, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    await client.connect();
    try {
      const created = await client.mailboxCreate(["Projekte", "Entwürfe"]);
      assert.equal(created.path, "Projekte/Entwürfe");
      assert.equal(created.created, true);
      const renamed = await client.mailboxRename("Projekte", "Arbeit");
      assert.equal(renamed.newPath, "Arbeit");
      const appended = await client.append("Arbeit/Entwürfe", Buffer.from(message("via imapflow")), ["\\Draft"], new Date("2026-03-05T09:00:00Z"));
      assert.ok(appended);
      assert.equal(appended.uid, 1);
      assert.equal(typeof appended.uidValidity, "bigint");

      const list = await client.list({ statusQuery: { messages: true, unseen: true } });
      const draft = list.find((m) => m.path === "Arbeit/Entwürfe");
      assert.ok(draft, JSON.stringify(list.map((m) => m.path)));
      assert.equal(draft.status?.messages, 1);
      assert.ok(list.some((m) => m.path === "Arbeit" && m.flags.has("\\HasChildren")));
      assert.ok(!list.some((m) => m.path.startsWith("Projekte")));
      assert.equal(list.find((m) => m.path === "Trash")?.specialUse, "\\Trash");

      const lock = await client.getMailboxLock("Arbeit/Entwürfe");
      try {
        const moved = await client.messageMove("1", "Trash", { uid: true });
        assert.ok(moved);
        assert.equal(moved.destination, "Trash");
        assert.deepEqual([...(moved.uidMap ?? new Map())], [[1, 1]]);
      } finally {
        lock.release();
      }
      const trash = await client.status("Trash", { messages: true });
      assert.equal(trash && trash.messages, 1);
      const source = await client.status("Arbeit/Entwürfe", { messages: true });
      assert.equal(source && source.messages, 0);
      const quota = await client.getQuota("INBOX");
      assert.deepEqual(quota, { path: "INBOX" }, "no limit, so no quota root and no STORAGE");
    } finally {
      await client.logout();
    }
  });
});
