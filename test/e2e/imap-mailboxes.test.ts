/**
 * Mailbox management over IMAP, as raw transcripts against the real edge and relay: CREATE
 * (with children and CREATE-SPECIAL-USE), RENAME (children move along; INBOX's messages
 * move, INBOX stays), DELETE refusals, SUBSCRIBE/LSUB, LIST-EXTENDED and LIST-STATUS,
 * STATUS, NAMESPACE, ENABLE and ID, and mailbox names in modified UTF-7 and in UTF-8.
 *
 * Every test logs in to an account of its own, so the pinned responses do not depend on the
 * order the tests run in.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Reply = Awaited<ReturnType<ImapTranscript["command"]>>;

/** Asserts the whole response: the untagged lines, then the tagged line (written without its tag). */
function answer(reply: Reply, ...lines: string[]): void {
  const expected = lines.map((line, i) => (i === lines.length - 1 ? `${reply.tag} ${line}` : line));
  assert.equal(reply.lines, expected.join("\r\n") + "\r\n");
}

const DEFAULT_LIST = [
  '* LIST (\\HasNoChildren) "/" INBOX',
  '* LIST (\\HasNoChildren \\Sent) "/" Sent',
  '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
  '* LIST (\\HasNoChildren \\Junk) "/" Junk',
  '* LIST (\\HasNoChildren \\Trash) "/" Trash',
];

describe("IMAP mailbox management", () => {
  let stack: Stack;
  let accounts = 0;

  /** A new account, logged in on a new connection. */
  async function login(): Promise<ImapTranscript> {
    const address = `mbx${++accounts}@edgemail.test`;
    const password = "mailbox-password-1";
    await stack.admin("POST", "/accounts", { address, password });
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const r = await client.command(`LOGIN ${address} ${password}`);
    assert.match(r.tagged, /^A1 OK /);
    return client;
  }

  /** Appends a small message with a LITERAL+ literal. */
  async function appendMessage(client: ImapTranscript, mailbox: string, subject: string): Promise<void> {
    const message = `Subject: ${subject}\r\n\r\nbody\r\n`;
    const r = await client.command(`APPEND ${mailbox} {${Buffer.byteLength(message)}+}\r\n${message}`);
    assert.match(r.tagged, / OK \[APPENDUID /);
  }

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack.cleanup();
  });

  it("advertises the mailbox extensions after login", async () => {
    const client = await login();
    const r = await client.command("CAPABILITY");
    const caps = /^\* CAPABILITY (.*)\r\n/.exec(r.lines)![1]!.split(" ");
    for (const cap of [
      "ENABLE",
      "ID",
      "NAMESPACE",
      "UNSELECT",
      "UIDPLUS",
      "MOVE",
      "CHILDREN",
      "LIST-EXTENDED",
      "LIST-STATUS",
      "STATUS=SIZE",
      "CREATE-SPECIAL-USE",
      "MULTIAPPEND",
      "APPENDLIMIT=26214400",
      "QUOTA",
      "QUOTA=RES-STORAGE",
      "UTF8=ACCEPT",
      "LITERAL+",
    ]) {
      assert.ok(caps.includes(cap), `${cap} in ${caps.join(" ")}`);
    }
    client.close();
  });

  it("CREATE makes the missing parents, and LIST shows the hierarchy with child attributes", async () => {
    const client = await login();
    answer(await client.command("CREATE Projects/2026/Q1"), "OK Create completed.");
    answer(
      await client.command('LIST "" "*"'),
      ...DEFAULT_LIST,
      '* LIST (\\HasChildren) "/" Projects',
      '* LIST (\\HasChildren) "/" Projects/2026',
      '* LIST (\\HasNoChildren) "/" Projects/2026/Q1',
      "OK List completed.",
    );
    answer(await client.command('LIST "" "%"'), ...DEFAULT_LIST, '* LIST (\\HasChildren) "/" Projects', "OK List completed.");
    answer(await client.command('LIST "Projects/" "%"'), '* LIST (\\HasChildren) "/" Projects/2026', "OK List completed.");
    answer(await client.command('LIST "" "inbox"'), '* LIST (\\HasNoChildren) "/" INBOX', "OK List completed.");
    answer(await client.command('LIST "" ""'), '* LIST (\\Noselect) "/" ""', "OK List completed.");
    answer(await client.command('CREATE "Two words/"'), "OK Create completed.");
    answer(await client.command('LIST "" "Two*"'), '* LIST (\\HasNoChildren) "/" "Two words"', "OK List completed.");
    client.close();
  });

  it("CREATE refuses what exists, names no mailbox may have, and special uses it cannot give", async () => {
    const client = await login();
    answer(await client.command("CREATE inbox"), "NO [ALREADYEXISTS] INBOX always exists");
    answer(await client.command("CREATE Sent"), "NO [ALREADYEXISTS] Mailbox already exists");
    answer(await client.command('CREATE "a//b"'), "NO [CANNOT] Mailbox name has an empty hierarchy level");
    answer(await client.command('CREATE "50%"'), "NO [CANNOT] Mailbox name may not contain % or *");
    answer(await client.command("CREATE Mine (USE (\\Sent))"), "NO [USEATTR] Another mailbox already has that special use");
    answer(await client.command("CREATE Mine (USE (\\All))"), "NO [USEATTR] Special use \\All is not supported");
    answer(await client.command("CREATE Mine (COLOR (red))"), "BAD Unknown CREATE parameter");
    answer(await client.command('LIST "" Mine'), "OK List completed.");
    answer(await client.command("CREATE Archive (USE (\\Archive))"), "OK Create completed.");
    answer(await client.command('LIST "" Archive'), '* LIST (\\HasNoChildren \\Archive) "/" Archive', "OK List completed.");
    client.close();
  });

  it("RENAME moves children along and refuses existing targets, missing sources and moves below itself", async () => {
    const client = await login();
    await client.command("CREATE Projects/2026/Q1");
    answer(await client.command("RENAME Projects Work"), "OK Rename completed.");
    answer(
      await client.command('LIST "" "Work*"'),
      '* LIST (\\HasChildren) "/" Work',
      '* LIST (\\HasChildren) "/" Work/2026',
      '* LIST (\\HasNoChildren) "/" Work/2026/Q1',
      "OK List completed.",
    );
    answer(await client.command('LIST "" "Projects*"'), "OK List completed.");
    answer(await client.command("RENAME Work Sent"), "NO [ALREADYEXISTS] Target mailbox already exists");
    answer(await client.command("RENAME Work INBOX"), "NO [ALREADYEXISTS] Target mailbox already exists");
    answer(await client.command("RENAME Nope Other"), "NO [NONEXISTENT] Mailbox does not exist");
    answer(await client.command("RENAME Work Work/Inner"), "NO [CANNOT] Cannot rename a mailbox below itself");
    client.close();
  });

  it("RENAME INBOX moves its messages to the new mailbox and leaves INBOX empty", async () => {
    const client = await login();
    await appendMessage(client, "INBOX", "one");
    await appendMessage(client, "INBOX", "two");
    answer(await client.command('RENAME inbox "Old mail"'), "OK Rename completed.");
    answer(await client.command("STATUS INBOX (MESSAGES)"), "* STATUS INBOX (MESSAGES 0)", "OK Status completed.");
    answer(await client.command('STATUS "Old mail" (MESSAGES)'), '* STATUS "Old mail" (MESSAGES 2)', "OK Status completed.");
    client.close();
  });

  it("DELETE refuses INBOX, mailboxes with children and names that do not exist", async () => {
    const client = await login();
    await client.command("CREATE Work/Sub");
    answer(await client.command("DELETE INBOX"), "NO [CANNOT] INBOX cannot be deleted");
    answer(await client.command("DELETE Work"), "NO [CANNOT] Mailbox has child mailboxes, delete them first");
    answer(await client.command("DELETE Nope"), "NO [NONEXISTENT] Mailbox does not exist");
    answer(await client.command("DELETE Work/Sub"), "OK Delete completed.");
    answer(await client.command("DELETE Work"), "OK Delete completed.");
    answer(await client.command('LIST "" "Work*"'), "OK List completed.");
    client.close();
  });

  it("DELETE of the selected mailbox answers OK, then ends the session", async () => {
    const client = await login();
    await client.command("CREATE Doomed");
    await client.command("SELECT Doomed");
    const r = await client.command("DELETE Doomed");
    // The BYE may arrive with the tagged OK or just after it.
    const text = r.lines.includes("BYE") ? r.lines : r.lines + (await client.raw("", /\* BYE [^\r\n]*\r\n/));
    assert.equal(text, `${r.tag} OK Delete completed.\r\n* BYE Selected mailbox was deleted, have to disconnect.\r\n`);
    client.close();
  });

  it("SUBSCRIBE and UNSUBSCRIBE change what LSUB and LIST (SUBSCRIBED) show", async () => {
    const client = await login();
    await client.command("CREATE Lists/Rust");
    answer(await client.command("UNSUBSCRIBE Drafts"), "OK Unsubscribe completed.");
    answer(await client.command("UNSUBSCRIBE Drafts"), "OK Unsubscribe completed.");
    answer(await client.command("UNSUBSCRIBE Lists"), "OK Unsubscribe completed.");
    answer(await client.command('SUBSCRIBE "Gone/Away"'), "OK Subscribe completed.");
    answer(
      await client.command('LSUB "" "*"'),
      '* LSUB () "/" Gone/Away',
      '* LSUB () "/" INBOX',
      '* LSUB () "/" Junk',
      '* LSUB () "/" Lists/Rust',
      '* LSUB () "/" Sent',
      '* LSUB () "/" Trash',
      "OK Lsub completed.",
    );
    answer(
      await client.command('LSUB "" "%"'),
      '* LSUB () "/" INBOX',
      '* LSUB () "/" Junk',
      '* LSUB () "/" Sent',
      '* LSUB () "/" Trash',
      '* LSUB (\\Noselect) "/" Gone',
      '* LSUB (\\Noselect) "/" Lists',
      "OK Lsub completed.",
    );
    answer(
      await client.command('LIST (SUBSCRIBED) "" "*"'),
      '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
      '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" Trash',
      '* LIST (\\Subscribed \\HasNoChildren) "/" Lists/Rust',
      '* LIST (\\NonExistent \\Subscribed) "/" Gone/Away',
      "OK List completed.",
    );
    answer(
      await client.command('LIST "" "%" RETURN (SUBSCRIBED)'),
      '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
      '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" Trash',
      '* LIST (\\HasChildren) "/" Lists',
      "OK List completed.",
    );
    // RFC 5258 §3.5: parents that match the pattern get CHILDINFO when descendants are subscribed.
    answer(
      await client.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'),
      '* LIST (\\Subscribed \\HasNoChildren) "/" INBOX',
      '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" Trash',
      '* LIST (\\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\NonExistent) "/" Gone ("CHILDINFO" ("SUBSCRIBED"))',
      "OK List completed.",
    );
    client.close();
  });

  it("LIST-EXTENDED: selection and return options, several patterns, and BAD for what it does not know", async () => {
    const client = await login();
    await client.command("CREATE Archive/2025 (USE (\\Archive))");
    answer(
      await client.command('LIST (SPECIAL-USE) "" "*"'),
      '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash',
      '* LIST (\\HasNoChildren \\Archive) "/" Archive/2025',
      "OK List completed.",
    );
    answer(
      await client.command('LIST (SPECIAL-USE RECURSIVEMATCH) "" "%"'),
      '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash',
      '* LIST (\\HasChildren) "/" Archive ("CHILDINFO" ("SPECIAL-USE"))',
      "OK List completed.",
    );
    answer(
      await client.command('LIST () "" (inbox "Arch*") RETURN (CHILDREN SPECIAL-USE)'),
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\HasChildren) "/" Archive',
      '* LIST (\\HasNoChildren \\Archive) "/" Archive/2025',
      "OK List completed.",
    );
    answer(await client.command('LIST (REMOTE) "" Sent'), '* LIST (\\HasNoChildren \\Sent) "/" Sent', "OK List completed.");
    answer(await client.command('LIST (RECURSIVEMATCH) "" "*"'), "BAD RECURSIVEMATCH needs another selection option");
    answer(await client.command('LIST (REMOTE RECURSIVEMATCH) "" "*"'), "BAD RECURSIVEMATCH needs another selection option");
    answer(await client.command('LIST (SHARED) "" "*"'), "BAD Unknown LIST selection option SHARED");
    answer(await client.command('LIST "" "*" RETURN (MYRIGHTS)'), "BAD Unknown LIST return option MYRIGHTS");
    answer(await client.command('LIST "" "*" RETURN (STATUS (BOGUS))'), "BAD Unknown status item BOGUS");
    client.close();
  });

  it("LIST-STATUS follows each selectable mailbox's LIST line with its STATUS", async () => {
    const client = await login();
    await appendMessage(client, "INBOX", "counted");
    await client.command("CREATE Folder/Leaf");
    const uidvalidity = async (name: string) => /UIDVALIDITY (\d+)/.exec((await client.command(`STATUS ${name} (UIDVALIDITY)`)).lines)![1];
    const inbox = await uidvalidity("INBOX");
    const leaf = await uidvalidity("Folder/Leaf");
    const inboxSize = Buffer.byteLength("Subject: counted\r\n\r\nbody\r\n");
    answer(
      await client.command('LIST "" (INBOX "Folder/*") RETURN (STATUS (MESSAGES UNSEEN UIDVALIDITY SIZE))'),
      '* LIST (\\HasNoChildren) "/" INBOX',
      `* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDVALIDITY ${inbox} SIZE ${inboxSize})`,
      '* LIST (\\HasNoChildren) "/" Folder/Leaf',
      `* STATUS Folder/Leaf (MESSAGES 0 UNSEEN 0 UIDVALIDITY ${leaf} SIZE 0)`,
      "OK List completed.",
    );
    client.close();
  });

  it("STATUS answers every item in the order asked, and NO [NONEXISTENT] for a missing mailbox", async () => {
    const client = await login();
    await appendMessage(client, "INBOX", "first");
    await appendMessage(client, "INBOX", "second");
    const size = 2 * Buffer.byteLength("Subject: first\r\n\r\nbody\r\n") + 1;
    const r = await client.command("STATUS inbox (UIDNEXT MESSAGES UNSEEN DELETED SIZE RECENT UIDVALIDITY HIGHESTMODSEQ APPENDLIMIT)");
    assert.match(
      r.lines,
      new RegExp(
        `^\\* STATUS INBOX \\(UIDNEXT 3 MESSAGES 2 UNSEEN 2 DELETED 0 SIZE ${size} RECENT 2 UIDVALIDITY \\d+ HIGHESTMODSEQ \\d+ APPENDLIMIT ${25 * 1024 * 1024}\\)\\r\\n${r.tag} OK Status completed\\.\\r\\n$`,
      ),
    );
    answer(await client.command("STATUS Nope (MESSAGES)"), "NO [NONEXISTENT] Mailbox does not exist");
    answer(await client.command("STATUS INBOX (MESSAGES BOGUS)"), "BAD Unknown status item BOGUS");
    answer(await client.command("STATUS INBOX ()"), "BAD Empty status item list");
    client.close();
  });

  it("NAMESPACE, ID and ENABLE", async () => {
    const client = await login();
    answer(await client.command("NAMESPACE"), '* NAMESPACE (("" "/")) NIL NIL', "OK Namespace completed.");
    answer(await client.command('ID ("name" "raw-test" "version" "1")'), '* ID ("name" "edgemail")', "OK ID completed.");
    answer(await client.command("ID NIL"), '* ID ("name" "edgemail")', "OK ID completed.");
    answer(await client.command('ID ("name")'), "BAD ID takes up to 30 field/value pairs");
    answer(await client.command("ENABLE CONDSTORE X-UNKNOWN"), "* ENABLED CONDSTORE", "OK Enable completed.");
    answer(await client.command("ENABLE CONDSTORE"), "* ENABLED", "OK Enable completed.");
    answer(await client.command("ENABLE qresync"), "* ENABLED QRESYNC", "OK Enable completed.");
    answer(await client.command("ENABLE"), "BAD ENABLE needs at least one capability name");
    await client.command("SELECT INBOX");
    answer(await client.command("ENABLE UTF8=ACCEPT"), "BAD ENABLE is not valid in the selected state");
    answer(await client.command("UNSELECT"), "OK Unselect completed.");
    answer(await client.command("UNSELECT"), "BAD UNSELECT is not valid in the authenticated state");
    client.close();
  });

  it("ID works before login", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    answer(await client.command("ID NIL"), '* ID ("name" "edgemail")', "OK ID completed.");
    client.close();
  });

  it("names travel in modified UTF-7, and in UTF-8 once UTF8=ACCEPT is enabled", async () => {
    const client = await login();
    answer(await client.command('CREATE "Entw&APw-rfe/&ZeVnLIqe-"'), "OK Create completed.");
    answer(
      await client.command('LIST "" "Entw&APw-rfe*"'),
      '* LIST (\\HasChildren) "/" Entw&APw-rfe',
      '* LIST (\\HasNoChildren) "/" Entw&APw-rfe/&ZeVnLIqe-',
      "OK List completed.",
    );
    answer(await client.command('CREATE "&AOk"'), "BAD [CLIENTBUG] Mailbox name is not valid modified UTF-7");
    answer(await client.command('CREATE "&AGE-"'), "BAD [CLIENTBUG] Mailbox name is not valid modified UTF-7");
    // ImapTranscript writes commands as UTF-8 and reads answers as latin1.
    answer(await client.command('CREATE "Café"'), "BAD [CLIENTBUG] Mailbox name is not valid modified UTF-7");
    answer(await client.command("ENABLE UTF8=ACCEPT"), "* ENABLED UTF8=ACCEPT", "OK Enable completed.");
    const list = await client.command('LIST "" "Entw*"');
    assert.equal(
      Buffer.from(list.lines, "latin1").toString("utf8"),
      '* LIST (\\HasChildren) "/" "Entwürfe"\r\n* LIST (\\HasNoChildren) "/" "Entwürfe/日本語"\r\n' + `${list.tag} OK List completed.\r\n`,
    );
    answer(await client.command('CREATE "Café"'), "OK Create completed.");
    answer(await client.command('STATUS "Café" (MESSAGES)'), '* STATUS "Caf\u00c3\u00a9" (MESSAGES 0)', "OK Status completed.");
    client.close();
    // A rev1 session sees the same mailbox in modified UTF-7.
    const { client: rev1 } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    await rev1.command(`LOGIN mbx${accounts}@edgemail.test mailbox-password-1`);
    answer(await rev1.command('LIST "" "Caf*"'), '* LIST (\\HasNoChildren) "/" Caf&AOk-', "OK List completed.");
    rev1.close();
  });
});
