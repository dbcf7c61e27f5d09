/**
 * THREAD (RFC 5256) as tables: ORDEREDSUBJECT and REFERENCES over threading keys, written
 * as the `* THREAD` response they produce.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractBaseSubject } from "../../common/mime/base-subject.ts";
import { thread, threadResponse, type ThreadAlgorithm, type ThreadInput } from "../../relay/imap/thread/thread.ts";

function msg(uid: number, date: number, subject: string, messageId: string | null, refs: string[] = [], extra: Partial<ThreadInput> = {}): ThreadInput {
  return { uid, date, baseSubject: subject, messageId, inReplyTo: null, references: refs, isReply: false, ...extra };
}

/** A message as ingest keys it: base subject and isReply both from the raw Subject (common/mime/base-subject.ts). */
function subjectMsg(uid: number, date: number, subject: string, messageId: string | null): ThreadInput {
  const { base, isReply } = extractBaseSubject(subject);
  return msg(uid, date, base.toLowerCase(), messageId, [], { isReply });
}

function run(algorithm: ThreadAlgorithm, messages: ThreadInput[], number: (uid: number) => number = (u) => u): string {
  return threadResponse(thread(algorithm, messages), number);
}

describe("THREAD=ORDEREDSUBJECT", () => {
  it("groups by base subject; the earliest is the parent, threads ordered by their first message", () => {
    const messages = [msg(1, 3, "a", null), msg(2, 1, "b", null), msg(3, 2, "a", null), msg(4, 5, "a", null), msg(5, 4, "c", null)];
    assert.equal(run("ORDEREDSUBJECT", messages), "* THREAD (2)(3 (1)(4))(5)\r\n");
  });
  it("one follow-up is written as a chain", () => {
    assert.equal(run("ORDEREDSUBJECT", [msg(1, 1, "x", null), msg(2, 2, "x", null)]), "* THREAD (1 2)\r\n");
  });
  it("equal dates keep mailbox order", () => {
    assert.equal(run("ORDEREDSUBJECT", [msg(2, 7, "x", null), msg(1, 7, "y", null)]), "* THREAD (1)(2)\r\n");
  });
  it("nothing matched", () => assert.equal(run("ORDEREDSUBJECT", []), "* THREAD\r\n"));
});

describe("THREAD=REFERENCES", () => {
  it("follows References into a tree, siblings by date", () => {
    const messages = [
      msg(1, 1, "hello", "<a>"),
      msg(2, 2, "hello", "<b>", ["<a>"]),
      msg(3, 3, "hello", "<c>", ["<a>", "<b>"]),
      msg(4, 4, "hello", "<d>", ["<a>"]),
      msg(5, 5, "other", "<e>"),
    ];
    assert.equal(run("REFERENCES", messages), "* THREAD (1 (2 3)(4))(5)\r\n");
  });

  it("uses In-Reply-To when there are no References", () => {
    const messages = [msg(1, 1, "s", "<a>"), msg(2, 2, "t", "<b>", [], { inReplyTo: "<a>" })];
    assert.equal(run("REFERENCES", messages), "* THREAD (1 2)\r\n");
  });

  it("keeps a dummy root for two replies to a message we do not have", () => {
    const messages = [msg(1, 1, "s1", "<p>", ["<x>"]), msg(2, 2, "s2", "<q>", ["<x>"])];
    assert.equal(run("REFERENCES", messages), "* THREAD ((1)(2))\r\n");
  });

  it("promotes the only child of a missing parent", () => {
    assert.equal(run("REFERENCES", [msg(1, 1, "s1", "<p>", ["<x>"])]), "* THREAD (1)\r\n");
  });

  it("promotes the children of a missing message in the middle of a chain", () => {
    const messages = [msg(1, 1, "s", "<a>"), msg(2, 2, "s", "<c>", ["<a>", "<b>"]), msg(3, 3, "s", "<d>", ["<a>", "<b>"])];
    assert.equal(run("REFERENCES", messages), "* THREAD (1 (2)(3))\r\n");
  });

  it("orders threads by date, a dummy root by its earliest child", () => {
    const messages = [msg(1, 50, "late", "<l>"), msg(2, 20, "s1", "<p>", ["<x>"]), msg(3, 10, "s2", "<q>", ["<x>"])];
    assert.equal(run("REFERENCES", messages), "* THREAD ((3)(2))(1)\r\n");
  });

  it("gathers unrelated threads with the same base subject under a dummy", () => {
    const messages = [msg(1, 1, "topic", "<a>"), msg(2, 2, "topic", "<b>")];
    assert.equal(run("REFERENCES", messages), "* THREAD ((1)(2))\r\n");
  });

  it("puts a reply under the original with the same subject (when the keys say which is a reply)", () => {
    const messages = [msg(1, 1, "topic", "<a>"), msg(2, 2, "topic", "<b>", [], { isReply: true })];
    assert.equal(run("REFERENCES", messages), "* THREAD (1 2)\r\n");
  });

  it("step 5.C: without references, a reply ('Re: foo') becomes a child of its original ('foo')", () => {
    const messages = [subjectMsg(1, 1, "foo", "<a>"), subjectMsg(2, 2, "Re: foo", "<b>")];
    assert.equal(run("REFERENCES", messages), "* THREAD (1 2)\r\n");
    assert.equal(run("REFERENCES", [subjectMsg(1, 1, "[list] foo", "<a>"), subjectMsg(2, 2, "[list] Fwd: foo", "<b>")]), "* THREAD (1 2)\r\n");
    // The original holds the subject even when it is the later message.
    assert.equal(run("REFERENCES", [subjectMsg(1, 1, "Re: foo", "<a>"), subjectMsg(2, 2, "foo", "<b>")]), "* THREAD (2 1)\r\n");
  });

  it("step 5.C: two non-replies ('foo', 'foo') or two replies meet as siblings under a dummy", () => {
    assert.equal(run("REFERENCES", [subjectMsg(1, 1, "foo", "<a>"), subjectMsg(2, 2, "foo", "<b>")]), "* THREAD ((1)(2))\r\n");
    assert.equal(run("REFERENCES", [subjectMsg(1, 1, "Re: foo", "<a>"), subjectMsg(2, 2, "Fwd: foo", "<b>")]), "* THREAD ((1)(2))\r\n");
    // A list tag alone is no reply.
    assert.equal(run("REFERENCES", [subjectMsg(1, 1, "foo", "<a>"), subjectMsg(2, 2, "[list] foo", "<b>")]), "* THREAD ((1)(2))\r\n");
  });

  it("never gathers messages with an empty subject", () => {
    assert.equal(run("REFERENCES", [msg(1, 1, "", "<a>"), msg(2, 2, "", "<b>")]), "* THREAD (1)(2)\r\n");
  });

  it("does not build a loop from references that point at each other", () => {
    const messages = [msg(1, 1, "s", "<a>", ["<b>"]), msg(2, 2, "t", "<b>", ["<a>"])];
    assert.equal(run("REFERENCES", messages), "* THREAD (2 1)\r\n");
  });

  it("gives a duplicate Message-ID its own thread", () => {
    assert.equal(run("REFERENCES", [msg(1, 1, "s", "<a>"), msg(2, 2, "t", "<a>")]), "* THREAD (1)(2)\r\n");
  });

  it("messages without Message-ID stand alone", () => {
    assert.equal(run("REFERENCES", [msg(1, 2, "s", null), msg(2, 1, "t", null)]), "* THREAD (2)(1)\r\n");
  });

  it("answers with sequence numbers when asked", () => {
    const seq = new Map([
      [10, 1],
      [20, 2],
    ]);
    const messages = [msg(10, 1, "s", "<a>"), msg(20, 2, "s", "<b>", ["<a>"])];
    assert.equal(run("REFERENCES", messages, (uid) => seq.get(uid)!), "* THREAD (1 2)\r\n");
  });
});
