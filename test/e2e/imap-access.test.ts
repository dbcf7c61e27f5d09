/**
 * Who may do what over IMAP, as raw transcripts: TLS before passwords, one generic answer to
 * a wrong password, nothing before login, and one account never sees another's mail.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { ImapTranscript } from "../support/imap-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

describe("IMAP access control", () => {
  let stack: Stack;
  let demo: { address: string; password: string };

  before(async () => {
    stack = await startTestStack();
    demo = stack.settings().demo;
    await stack.admin("POST", "/accounts", { address: "other@edgemail.test", password: "other-password-1" });
    // One message for the demo account, straight through the relay's edge client.
    const raw = Buffer.from("Subject: private to demo\r\n\r\nsecret\r\n");
    const { createHash } = await import("node:crypto");
    const { indexMessage } = await import("../../common/mime/index.ts");
    const blob = await stack.relay!.edge.putBlob(createHash("sha256").update(raw).digest("hex"), raw);
    await stack.relay!.edge.deliver({
      idempotencyKey: "test:private-0001",
      blob,
      envelope: { mailFrom: "", recipients: [demo.address] },
      index: indexMessage(raw),
    });
  });
  after(async () => {
    await stack.cleanup();
  });

  it("greets with capabilities and offers AUTH=PLAIN over TLS", async () => {
    const { client, greeting } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 [^\]]*AUTH=PLAIN[^\]]*\] /);
    client.close();
  });

  it("on the cleartext port offers STARTTLS and refuses LOGIN until TLS", async () => {
    const socket = connect(stack.relay!.ports.imap!, "127.0.0.1");
    const text = await new Promise<string>((resolve, reject) => {
      let buf = "";
      socket.on("data", (d) => {
        buf += d.toString("latin1");
        if (/^\* OK .*\r\n/.test(buf) && !buf.includes("a1 ")) socket.write("a1 LOGIN demo@edgemail.test x\r\n");
        if (/a1 .*\r\n/.test(buf)) resolve(buf);
      });
      socket.on("error", reject);
    });
    socket.destroy();
    assert.match(text, /STARTTLS/);
    assert.match(text, /LOGINDISABLED/);
    assert.match(text, /a1 NO \[PRIVACYREQUIRED\] /);
  });

  it("answers a wrong password with NO [AUTHENTICATIONFAILED]", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const r = await client.command(`LOGIN ${demo.address} wrong-password`);
    assert.match(r.tagged, /^A1 NO \[AUTHENTICATIONFAILED\] /);
    const unknown = await client.command(`LOGIN nobody@edgemail.test wrong-password`);
    assert.match(unknown.tagged, /^A2 NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    client.close();
  });

  it("refuses commands that need a login before one", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const r = await client.command("SELECT INBOX");
    assert.match(r.tagged, /^A1 (BAD|NO) /);
    const f = await client.command("FETCH 1 (FLAGS)");
    assert.match(f.tagged, /^A2 (BAD|NO) /);
    assert.match((await client.command("NOOP")).tagged, /^A3 OK /, "the connection survives");
    client.close();
  });

  it("logs in with AUTHENTICATE PLAIN and with LOGIN", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const token = Buffer.from(`\0${demo.address}\0${demo.password}`).toString("base64");
    const r = await client.command(`AUTHENTICATE PLAIN ${token}`);
    assert.match(r.tagged, /^A1 OK \[CAPABILITY /);
    client.close();
    const second = await ImapTranscript.open(stack.relay!.ports.imaps!);
    const login = await second.client.command(`LOGIN "${demo.address}" "${demo.password}"`);
    assert.match(login.tagged, /^A1 OK /);
    second.client.close();
  });

  it("one account cannot see or select another account's mailbox", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    assert.match((await client.command(`LOGIN other@edgemail.test other-password-1`)).tagged, /^A1 OK /);
    const inbox = await client.command("SELECT INBOX");
    assert.match(inbox.lines, /\* 0 EXISTS\r\n/, "the other account's INBOX is its own, and empty");
    for (const name of [`"${demo.address}/INBOX"`, `"../${demo.address}/INBOX"`, `"#shared/INBOX"`]) {
      const r = await client.command(`SELECT ${name}`);
      assert.match(r.tagged, /^A\d+ NO \[NONEXISTENT\] /, name);
    }
    const list = await client.command(`LIST "" "*"`);
    assert.doesNotMatch(list.lines, /demo@/);
    client.close();
  });

  it("lists the five special-use mailboxes of a new account", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    await client.command(`LOGIN ${demo.address} ${demo.password}`);
    const list = await client.command(`LIST "" "*"`);
    for (const line of [
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash',
    ]) {
      assert.ok(list.lines.includes(line + "\r\n"), `${line} in ${list.lines}`);
    }
    client.close();
  });

  it("sets \\Seen on BODY[] but not on BODY.PEEK[HEADER]", async () => {
    const { client } = await ImapTranscript.open(stack.relay!.ports.imaps!);
    await client.command(`LOGIN ${demo.address} ${demo.password}`);
    await client.command("SELECT INBOX");
    // The first session to select the mailbox since delivery sees the message as \Recent (RFC 3501 §2.3.2).
    const peek = await client.command("FETCH 1 (BODY.PEEK[HEADER] FLAGS)");
    assert.equal(peek.lines, `* 1 FETCH (FLAGS (\\Recent) BODY[HEADER] {28}\r\nSubject: private to demo\r\n\r\n)\r\n${peek.tagged}\r\n`);
    const body = await client.command("FETCH 1 BODY[]");
    assert.match(body.lines, /^\* 1 FETCH \((FLAGS \(\\Seen \\Recent\) )?BODY\[\] \{36\}\r\nSubject: private to demo\r\n\r\nsecret\r\n( FLAGS \(\\Seen \\Recent\))?\)\r\n/);
    assert.match(body.lines, /FLAGS \(\\Seen \\Recent\)/, "the implicit \\Seen is reported");
    const store = await client.command("UID STORE 1 -FLAGS.SILENT (\\Seen)");
    assert.match(store.tagged, /OK/);
    assert.equal(store.lines, `${store.tagged}\r\n`);
    client.close();
  });
});
