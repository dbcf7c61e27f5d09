/**
 * SEARCH, SORT and THREAD keys at the edge: a table of SearchKey → expected UIDs over six
 * messages whose search fields are written by hand (as the relay would compute them), plus
 * sort orders, thread keys, MODSEQ, and what copies and expunges do to the results.
 *
 * The mailbox: UIDs 1–4 are APPENDed (so their internal dates can be chosen), 5 and 6 are
 * delivered; 6 carries no search fields at all.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Account, CopyResult, MailboxSnapshot, SearchResult, StoreFlagsResult } from "../../common/contract.ts";
import type { SearchKey, SortKey } from "../../common/search.ts";
import { appendMessage, createAccounts, deliver, sampleMessage, searchFields, startTestEdge, type TestEdge } from "../support/edge-api.ts";

/** Tags of growing length, so message sizes grow with the UID. */
const TAGS = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"] as const;
const SIZE = TAGS.map((t) => sampleMessage(t).byteLength);
const ALL = [1, 2, 3, 4, 5, 6];

const INTERNAL = [Date.UTC(2024, 0, 10, 23, 30), Date.UTC(2024, 0, 11, 8, 0), Date.UTC(2024, 1, 1, 12, 0), Date.UTC(2024, 2, 5, 9, 0)];

const FIELDS = [
  searchFields({
    headers: {
      from: ["alice <alice@example.net>"],
      to: ["bob@example.org"],
      subject: ["quarterly report"],
      "x-priority": ["1"],
      "message-id": ["<m1@example.net>"],
    },
    body: "the quarterly numbers are attached. see you in köln.",
    sentDate: "2024-01-11",
    sentAt: Date.UTC(2024, 0, 10, 23, 15),
    sort: { subject: "quarterly report", from: "alice@example.net", to: "bob@example.org", displayFrom: "alice", displayTo: "bob" },
    thread: { messageId: "<m1@example.net>" },
  }),
  searchFields({
    headers: { from: ["carol@example.com"], to: ["bob@example.org"], cc: ["dave@example.org"], subject: ["re: quarterly report"] },
    body: "ok, thanks! 100% agreed",
    sort: { subject: "quarterly report", from: "carol@example.com", to: "bob@example.org", cc: "dave@example.org", displayFrom: "carol", displayTo: "bob" },
    thread: { messageId: "<m2@example.com>", inReplyTo: "<m1@example.net>", references: ["<m1@example.net>"], isReply: true },
  }),
  searchFields({
    headers: { from: ["zed@example.com"], to: ["alice@example.org"], subject: ["straße und köln"] },
    body: "grüße aus köln",
    sentDate: "2024-02-01",
    sentAt: Date.UTC(2024, 1, 1, 10),
    sort: { subject: "straße und köln", from: "zed@example.com", displayFrom: "zed" },
  }),
  searchFields({
    headers: { from: ["bob@example.org"], to: ["carol@example.com"], subject: ["lunch?"] },
    body: "pizza at noon_time? a_b",
    sentDate: "2024-01-20",
    sentAt: Date.UTC(2024, 0, 20, 12),
    sort: { subject: "lunch?", from: "bob@example.org", to: "carol@example.com", displayFrom: "bob" },
  }),
  searchFields({
    headers: { from: ["eve@example.net"], to: ["alice@example.org"], subject: ["koln without umlaut"] },
    body: "plain koln only",
    sentDate: "2025-06-01",
    sentAt: Date.UTC(2025, 5, 1),
    sort: { subject: "koln without umlaut", from: "eve@example.net", displayFrom: "eve" },
  }),
];

const flag = (f: string, set = true): SearchKey => ({ op: "flag", flag: f, set });
const header = (field: string, value: string): SearchKey => ({ op: "header", field, value });
const body = (value: string): SearchKey => ({ op: "body", value });
const text = (value: string): SearchKey => ({ op: "text", value });
const date = (field: "internal" | "sent", cmp: "before" | "on" | "since", d: string): SearchKey => ({ op: "date", field, cmp, date: d });
const not = (key: SearchKey): SearchKey => ({ op: "not", key });
const or = (a: SearchKey, b: SearchKey): SearchKey => ({ op: "or", keys: [a, b] });
const and = (...keys: SearchKey[]): SearchKey => ({ op: "and", keys });
/** IMAP's OR a (OR b (OR c …)): a chain as deep as it is long. */
const orChain = (keys: SearchKey[]): SearchKey => keys.reduceRight((acc, k) => or(k, acc));

const CASES: [string, SearchKey, number[]][] = [
  ["ALL", { op: "all" }, ALL],
  ["nothing", { op: "none" }, []],
  ["SEEN", flag("\\Seen"), [1]],
  ["a system flag in another case", flag("\\SEEN"), [1]],
  ["UNSEEN", flag("\\Seen", false), [2, 3, 4, 5, 6]],
  ["a keyword in another case", flag("$work"), [2]],
  ["DELETED", flag("\\Deleted"), [3]],
  ["a flag nobody has", flag("$Nope"), []],
  ["UID ranges", { op: "uid", ranges: [[2, 3], [5, 5]] }, [2, 3, 5]],
  ["UID ranges out of order and overlapping", { op: "uid", ranges: [[6, 9], [1, 1], [5, 6]] }, [1, 5, 6]],
  ["many UID ranges (passed as JSON)", { op: "uid", ranges: Array.from({ length: 40 }, (_, i): [number, number] => [2 * i + 1, 2 * i + 1]) }, [1, 3, 5]],
  ["SUBJECT with a non-ASCII needle", header("subject", "köln"), [3]],
  ["SUBJECT with the needle in upper case", header("subject", "KÖLN"), [3]],
  ["SUBJECT with the needle decomposed (NFD)", header("subject", "KO\u0308LN"), [3]],
  ["SUBJECT without the umlaut finds only that spelling", header("subject", "koln"), [5]],
  ["FROM matches a substring of the address", header("from", "example.com"), [2, 3]],
  ["HEADER with an empty value means the field is present", header("x-priority", ""), [1]],
  ["HEADER field names in any case", header("X-Priority", "1"), [1]],
  ["CC present", header("cc", ""), [2]],
  ["SUBJECT substring in two messages", header("subject", "report"), [1, 2]],
  ["a header no message has", header("x-spam", ""), []],
  ["BODY, non-ASCII, through the trigram index", body("köln"), [1, 3]],
  ["BODY, folded needle", body("KÖLN"), [1, 3]],
  ["BODY without the umlaut", body("koln"), [5]],
  ["BODY, a needle too short for trigrams", body("ok"), [2]],
  ["BODY, a short needle that is a LIKE wildcard (%)", body("%"), [2]],
  ["BODY, a short needle that is a LIKE wildcard (_)", body("_"), [4]],
  ["BODY, a trigram needle with an underscore", body("a_b"), [4]],
  ["BODY across words", body("quarterly numbers are"), [1]],
  ["BODY with a quote in the needle", body('say "hi"'), []],
  ["BODY empty matches everything", body(""), ALL],
  ["BODY not found", body("xyz"), []],
  ["TEXT finds headers", text("bob@example.org"), [1, 2, 4]],
  ["TEXT finds bodies and headers", text("köln"), [1, 3]],
  ["TEXT finds only a header", text("lunch"), [4]],
  ["TEXT, a short needle in a header only", text("?"), [4]],
  ["OR", or(flag("\\Seen"), header("from", "zed")), [1, 3]],
  ["NOT OR", not(or(flag("\\Seen"), header("from", "zed"))), [2, 4, 5, 6]],
  ["AND with NOT", and(header("subject", "report"), not(flag("\\Seen"))), [2]],
  ["empty AND is ALL", and(), ALL],
  ["BEFORE (internal, UTC)", date("internal", "before", "2024-01-11"), [1]],
  ["ON (internal, late in the UTC day)", date("internal", "on", "2024-01-10"), [1]],
  ["ON (internal)", date("internal", "on", "2024-01-11"), [2]],
  ["SINCE (internal)", date("internal", "since", "2024-02-01"), [3, 4, 5, 6]],
  ["SENTBEFORE matches messages without a Date", date("sent", "before", "2024-02-01"), [1, 2, 4, 6]],
  ["SENTON", date("sent", "on", "2024-02-01"), [3]],
  ["SENTON the header's own calendar date", date("sent", "on", "2024-01-11"), [1]],
  ["SENTSINCE never matches messages without a Date", date("sent", "since", "2024-02-01"), [3, 5]],
  ["NOT SENTSINCE", not(date("sent", "since", "2024-02-01")), [1, 2, 4, 6]],
  ["LARGER", { op: "size", cmp: "larger", octets: SIZE[2]! }, [4, 5, 6]],
  ["SMALLER", { op: "size", cmp: "smaller", octets: SIZE[2]! }, [1, 2]],
  ["a 150-deep OR chain of distinct needles", orChain([...Array.from({ length: 150 }, (_, i) => header("subject", `zz${i}`)), header("subject", "lunch")]), [4]],
  ["an AND of 150 distinct keys", and(flag("$Work"), ...Array.from({ length: 150 }, (_, i) => not(body(`needle number ${i}`)))), [2]],
];

const SORTS: [string, SortKey[], number[]][] = [
  ["SUBJECT (empty first, ties by UID)", [{ key: "subject" }], [6, 5, 4, 1, 2, 3]],
  ["REVERSE SUBJECT (ties still by ascending UID)", [{ key: "subject", reverse: true }], [3, 1, 2, 4, 5, 6]],
  ["DATE (sent date, else internal date)", [{ key: "date" }], [1, 2, 4, 3, 5, 6]],
  ["ARRIVAL", [{ key: "arrival" }], [1, 2, 3, 4, 5, 6]],
  ["REVERSE ARRIVAL", [{ key: "arrival", reverse: true }], [6, 5, 4, 3, 2, 1]],
  ["FROM", [{ key: "from" }], [6, 1, 4, 2, 5, 3]],
  ["DISPLAYFROM", [{ key: "displayfrom" }], [6, 1, 4, 2, 5, 3]],
  ["REVERSE SIZE", [{ key: "size", reverse: true }], [6, 5, 4, 3, 2, 1]],
  ["TO, then REVERSE SUBJECT", [{ key: "to" }, { key: "subject", reverse: true }], [3, 5, 6, 1, 2, 4]],
  ["CC", [{ key: "cc" }], [1, 3, 4, 5, 6, 2]],
];

describe("search, sort and thread keys", () => {
  let edge: TestEdge;
  let alice: Account;
  let bob: Account;
  let inbox: number;
  const search = (request: unknown, mailbox = inbox, account = alice) =>
    edge.relay<SearchResult>("POST", `/accounts/${account.id}/mailboxes/${mailbox}/messages/search`, request);
  const select = (name: string) => edge.relay<MailboxSnapshot>("POST", `/accounts/${alice.id}/mailboxes/select`, { name });

  before(async () => {
    edge = await startTestEdge();
    const accounts = await createAccounts(edge, ["alice@example.org", "bob@example.org"]);
    alice = accounts[0]!;
    bob = accounts[1]!;
    const flags = [["\\Seen"], ["\\Flagged", "$Work"], ["\\Deleted"], []];
    const appended = await edge.relay<{ uids: number[]; mailboxId: number }>("POST", `/accounts/${alice.id}/mailboxes/append`, {
      name: "INBOX",
      messages: await Promise.all(
        [0, 1, 2, 3].map((i) =>
          appendMessage(edge, sampleMessage(TAGS[i]!), { flags: flags[i]!, internalDate: INTERNAL[i]!, search: FIELDS[i]! }),
        ),
      ),
    });
    assert.deepEqual(appended.body.uids, [1, 2, 3, 4]);
    inbox = appended.body.mailboxId;
    const fifth = await deliver(edge, sampleMessage(TAGS[4]), ["alice@example.org"], "search-delivery-5", FIELDS[4]);
    assert.equal(fifth.reply.body.stored[0]!.uid, 5);
    const sixth = await deliver(edge, sampleMessage(TAGS[5]), ["alice@example.org"], "search-delivery-6");
    assert.equal(sixth.reply.body.stored[0]!.uid, 6);
    assert.ok(SIZE.every((s, i) => i === 0 || s > SIZE[i - 1]!), "sizes grow with the UID");
  });
  after(async () => {
    await edge?.stop();
  });

  for (const [name, criteria, expected] of CASES) {
    it(`${name} → ${JSON.stringify(expected)}`, async () => {
      const r = await search({ criteria });
      assert.equal(r.status, 200, JSON.stringify(r.error));
      assert.deepEqual(r.body.uids, expected);
    });
  }

  for (const [name, sort, expected] of SORTS) {
    it(`sorts by ${name}`, async () => {
      const r = await search({ criteria: { op: "all" }, sort });
      assert.equal(r.status, 200, JSON.stringify(r.error));
      assert.deepEqual(r.body.uids, expected);
    });
  }

  it("sorts only the matches", async () => {
    const r = await search({ criteria: flag("\\Seen", false), sort: [{ key: "arrival", reverse: true }] });
    assert.deepEqual(r.body.uids, [6, 5, 4, 3, 2]);
  });

  it("returns the highest MODSEQ among the matches, null for none, and finds by MODSEQ", async () => {
    const all = await search({ criteria: { op: "all" } });
    assert.equal(all.body.highestModseq, (await select("INBOX")).body.mailbox.highestmodseq);
    assert.equal((await search({ criteria: { op: "none" } })).body.highestModseq, null);
    const stored = await edge.relay<StoreFlagsResult>("POST", `/accounts/${alice.id}/mailboxes/${inbox}/messages/flags`, {
      uids: [4],
      mode: "add",
      flags: ["$Lunch"],
    });
    const since = stored.body.highestmodseq;
    const r = await search({ criteria: { op: "modseq", modseq: since } });
    assert.deepEqual(r.body, { uids: [4], highestModseq: since });
    assert.deepEqual((await search({ criteria: { op: "modseq", modseq: since + 1 } })).body.uids, []);
  });

  it("returns thread keys for the matches when asked, with the date falling back to the internal date", async () => {
    const r = await search({ criteria: { op: "all" }, threadKeys: true });
    const keys = r.body.threadKeys!;
    assert.deepEqual(keys.map((k) => k.uid), ALL);
    assert.deepEqual(keys[0], {
      uid: 1,
      messageId: "<m1@example.net>",
      inReplyTo: null,
      references: [],
      baseSubject: "quarterly report",
      isReply: false,
      date: FIELDS[0]!.sentAt,
    });
    assert.deepEqual(keys[1], {
      uid: 2,
      messageId: "<m2@example.com>",
      inReplyTo: "<m1@example.net>",
      references: ["<m1@example.net>"],
      baseSubject: "quarterly report",
      isReply: true,
      date: INTERNAL[1],
    });
    assert.equal(keys[4]!.isReply, false, "delivered");
    assert.equal(keys[5]!.baseSubject, "");
    assert.equal(keys[5]!.isReply, false, "no search fields");
    assert.deepEqual(keys[5]!.references, []);
    assert.ok(Math.abs(keys[5]!.date - Date.now()) < 60_000);
    assert.equal((await search({ criteria: { op: "all" } })).body.threadKeys, undefined, "only when asked");
  });

  it("keeps isReply through COPY and MOVE", async () => {
    for (const name of ["Threads", "Threads/Moved"]) assert.equal((await edge.relay("POST", `/accounts/${alice.id}/mailboxes`, { name })).status, 200);
    const copied = await edge.relay<CopyResult>("POST", `/accounts/${alice.id}/mailboxes/${inbox}/messages/copy`, { uids: [1, 2], target: "Threads" });
    assert.equal(copied.status, 200);
    const threads = (await select("Threads")).body.mailbox.id;
    const replies = async (mailbox: number) =>
      (await search({ criteria: { op: "all" }, threadKeys: true }, mailbox)).body.threadKeys!.map((k) => [k.uid, k.isReply]);
    assert.deepEqual(await replies(threads), [
      [1, false],
      [2, true],
    ]);
    const moved = await edge.relay<CopyResult>("POST", `/accounts/${alice.id}/mailboxes/${threads}/messages/copy`, {
      uids: [2],
      target: "Threads/Moved",
      move: true,
    });
    assert.equal(moved.status, 200);
    assert.deepEqual(await replies((await select("Threads/Moved")).body.mailbox.id), [[1, true]]);
  });

  it("indexes a delivery's text for every recipient account", async () => {
    const fields = searchFields({ headers: { subject: ["for both"] }, body: "shared text for two accounts" });
    const { reply } = await deliver(edge, sampleMessage("both"), ["bob@example.org", "alice@example.org"], "search-delivery-both", fields);
    assert.equal(reply.status, 200);
    for (const [account, copy] of [
      [bob, reply.body.stored[0]!],
      [alice, reply.body.stored[1]!],
    ] as const) {
      const r = await search({ criteria: and(body("for two"), body("sh")) }, copy.mailboxId, account);
      assert.deepEqual(r.body.uids, [copy.uid], account.address);
    }
  });

  it("refuses impossible criteria with 400 bad_request", async () => {
    for (const criteria of [date("internal", "on", "2024-02-31"), { op: "bogus" }, { op: "uid", ranges: [[0, 1]] }]) {
      const r = await search({ criteria });
      assert.equal(r.status, 400, JSON.stringify(criteria));
      assert.equal(r.error?.code, "bad_request");
    }
  });

  it("answers no_such_mailbox for another account's mailbox, or none", async () => {
    const foreign = await search({ criteria: { op: "all" } }, inbox, bob);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.error?.code, "no_such_mailbox");
    assert.equal((await search({ criteria: { op: "all" } }, 999999)).error?.code, "no_such_mailbox");
  });

  it("finds copies by their text in the target mailbox, and expunged messages nowhere", async () => {
    assert.equal((await edge.relay("POST", `/accounts/${alice.id}/mailboxes`, { name: "Archive" })).status, 200);
    const copied = await edge.relay<CopyResult>("POST", `/accounts/${alice.id}/mailboxes/${inbox}/messages/copy`, { uids: [1, 3], target: "Archive" });
    assert.deepEqual(copied.body.mapping, [
      [1, 1],
      [3, 2],
    ]);
    const archive = (await select("Archive")).body.mailbox.id;
    assert.deepEqual((await search({ criteria: body("köln") }, archive)).body.uids, [1, 2]);
    assert.deepEqual((await search({ criteria: header("subject", "straße") }, archive)).body.uids, [2]);
    assert.deepEqual((await search({ criteria: flag("\\Deleted") }, archive)).body.uids, [2], "flags came along");
    // UID 3 is \Deleted in INBOX: expunge it there; the copy stays findable in Archive.
    await edge.relay("POST", `/accounts/${alice.id}/mailboxes/${inbox}/messages/expunge`, {});
    assert.deepEqual((await search({ criteria: body("köln") })).body.uids, [1]);
    assert.deepEqual((await search({ criteria: body("köln") }, archive)).body.uids, [1, 2]);
    // MOVE keeps the text with the message.
    const moved = await edge.relay<CopyResult>("POST", `/accounts/${alice.id}/mailboxes/${archive}/messages/copy`, {
      uids: [2],
      target: "Trash",
      move: true,
    });
    assert.equal(moved.status, 200);
    const trash = (await select("Trash")).body.mailbox.id;
    assert.deepEqual((await search({ criteria: text("grüße") }, trash)).body.uids, [1]);
    assert.deepEqual((await search({ criteria: text("grüße") }, archive)).body.uids, []);
  });
});
