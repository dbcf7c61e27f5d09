/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5) with CONDSTORE/QRESYNC (RFC 7162: the MODSEQ item, the
 * CHANGEDSINCE and VANISHED modifiers) and BINARY (RFC 3516). One edge call gets the metadata
 * of every message the set names (never one per message); body sections are located by the
 * offsets computed at ingest and streamed from the edge, each reading only its own byte range;
 * BINARY sections are decoded while they stream.
 *
 * Responses carry UID first, then the items without literals, then the literals (Dovecot's
 * order); FLAGS show \Recent to IMAP4rev1 sessions. After the responses, changes by others
 * are reported — without EXPUNGE for the sequence-number form (RFC 9051 §7.5.1) — from the
 * changes feed piggybacked on the last metadata call (the fetch, or the flags call that sets
 * \Seen), so no further round trip is made for them.
 */
import { Readable } from "node:stream";
import type { ChangesResult, MessageMeta } from "../../../common/contract.ts";
import { resolveSection, type SectionRange } from "../../../common/mime/sections.ts";
import type { ImapConnection } from "../connection.ts";
import { binaryPart, decodeStream, sliceStream, type BinarySource } from "../fetch/binary.ts";
import { filterHeaderFields } from "../fetch/header-fields.ts";
import { BodyReadAhead, type PlannedRead } from "../fetch/read-ahead.ts";
import { parseFetchItems, type BinaryItem, type FetchItem, type SectionItem } from "../fetch/items.ts";
import type { MailboxView } from "../mailbox-view.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Token } from "../protocol/parser.ts";
import { formatSequenceSet, type SequenceSet } from "../protocol/sequence-set.ts";
import { flagList, internalDate, untagged } from "../protocol/writer.ts";
import { renderBodyStructure } from "../render/bodystructure.ts";
import { renderEnvelope } from "../render/envelope.ts";
import { condstoreActive, enableCondstore, isRev2, qresyncActive } from "../session.ts";
import { reportMailboxChanges, sendFlags } from "./changes.ts";
import type { CommandSpec } from "./types.ts";

/** BINARY parts up to this size are decoded into memory once (to choose literal or literal8). */
const BINARY_BUFFER_LIMIT = 1024 * 1024;

interface FetchModifiers {
  changedSince: number | null;
  vanished: boolean;
}

export const fetch: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const set = args.sequenceSet();
    const items = parseFetchItems(
      args.peek()?.type === "list" ? { type: "list", items: args.list() } : { type: "atom", value: args.atom() },
    );
    const modifiers = parseModifiers(args.optionalList());
    args.end();
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    if (modifiers.vanished) {
      if (!byUid) throw new ImapProtocolError("BAD", "VANISHED is only allowed with UID FETCH");
      if (!qresyncActive(conn)) throw new ImapProtocolError("BAD", "VANISHED needs ENABLE QRESYNC");
      if (modifiers.changedSince === null) throw new ImapProtocolError("BAD", "VANISHED needs CHANGEDSINCE");
    }
    if (modifiers.changedSince !== null || items.some((i) => i.kind === "MODSEQ")) enableCondstore(conn);
    if (modifiers.changedSince !== null && !items.some((i) => i.kind === "MODSEQ")) items.push({ kind: "MODSEQ" });
    if (byUid && !items.some((i) => i.kind === "UID")) items.unshift({ kind: "UID" });

    let uids = view.resolve(set, byUid);
    if (modifiers.changedSince !== null) {
      const since = modifiers.changedSince;
      const changes = await conn.store.changes(principal.accountId, view.mailbox.id, since);
      const changed = new Set(changes.messages.filter((m) => m.modseq > since).map((m) => m.uid));
      uids = uids.filter((uid) => changed.has(uid));
      if (modifiers.vanished) {
        // Expunges the view still holds are reported as plain VANISHED at the end.
        const top = Math.max(view.uids[view.uids.length - 1] ?? 0, view.mailbox.uidnext - 1);
        const gone = changes.expunged.filter((uid) => !view.has(uid) && inUidSet(set, uid, top));
        if (gone.length > 0) await conn.send(untagged(`VANISHED (EARLIER) ${formatSequenceSet(gone)}`));
      }
    }
    const changes = uids.length > 0 ? await fetchMessages(conn, view, principal.accountId, uids, items) : undefined;
    await reportMailboxChanges(conn, { expunges: byUid, changes });
    return { text: "Fetch completed." };
  },
};

async function fetchMessages(
  conn: ImapConnection,
  view: MailboxView,
  accountId: number,
  uids: number[],
  items: FetchItem[],
): Promise<ChangesResult | undefined> {
  const setsSeen = !view.readOnly && items.some((i) => (i.kind === "section" || i.kind === "binary") && !i.peek);
  // The changes feed rides on the last metadata call: the flags call that sets \Seen when one
  // will follow (as far as the view knows), else the fetch itself. Should the view be wrong
  // and no flags call follow, the report asks the edge itself.
  const flagsCallLikely = setsSeen && uids.some((uid) => !view.flagsOf(uid).includes("\\Seen"));
  const fetched = await conn.store.fetchMessages(accountId, view.mailbox.id, uids, flagsCallLikely ? undefined : view.highestModseq);
  const { messages } = fetched;
  let changes = fetched.changes;
  // Refuse an undecodable BINARY section before the first response is written (RFC 3516 §4.3).
  for (const item of items) if (item.kind === "binary" || item.kind === "binarySize") for (const m of messages) binaryPart(m.index, item.part);

  let seenNow = new Set<number>();
  if (setsSeen) {
    const marked = await markSeen(conn, view, messages);
    seenNow = marked.changed;
    changes = marked.changes ?? changes;
  }
  const condstore = condstoreActive(conn);
  const wantsFlags = items.some((i) => i.kind === "FLAGS");
  const wantsModseq = items.some((i) => i.kind === "MODSEQ");
  if (wantsFlags || seenNow.size > 0) {
    const keywords = messages.flatMap((m) => (wantsFlags || seenNow.has(m.uid) ? m.flags : []));
    if (view.announceKeywords(keywords)) await sendFlags(conn, view);
  }

  const listed = messages.filter((meta) => view.seqOf(meta.uid) !== undefined);
  const readAhead = new BodyReadAhead(conn.store, accountId, view.mailbox.id, plannedReads(listed, items));
  try {
    await writeMessages(conn, view, accountId, listed, items, { seenNow, wantsFlags, wantsModseq, condstore }, readAhead);
  } finally {
    readAhead.close();
  }
  return changes;
}

async function writeMessages(
  conn: ImapConnection,
  view: MailboxView,
  accountId: number,
  messages: MessageMeta[],
  items: FetchItem[],
  o: { seenNow: Set<number>; wantsFlags: boolean; wantsModseq: boolean; condstore: boolean },
  readAhead: BodyReadAhead,
): Promise<void> {
  const { seenNow, wantsFlags, wantsModseq, condstore } = o;
  for (const meta of messages) {
    const seq = view.seqOf(meta.uid);
    if (seq === undefined) continue; // expunged and reported since the set was resolved
    // \Seen set by this FETCH: FLAGS go along (RFC 9051 §6.4.5), with UID and MODSEQ under CONDSTORE (RFC 7162 §3.1).
    const implicit = seenNow.has(meta.uid);
    const ordered = orderItems(items, implicit && !wantsFlags, implicit && condstore && !wantsModseq, implicit && condstore);
    if (ordered.some((i) => i.kind === "FLAGS")) view.setFlags(meta.uid, meta.flags, meta.modseq);
    await conn.send(`* ${seq} FETCH (`);
    let first = true;
    for (const item of ordered) {
      if (!first) await conn.send(" ");
      first = false;
      await writeItem(conn, view, accountId, meta, item, readAhead);
    }
    await conn.send(")\r\n");
  }
}

/** `(CHANGEDSINCE n [VANISHED])` after the items (RFC 7162 §3.1.4, §3.2.6). */
function parseModifiers(list: Token[] | null): FetchModifiers {
  const result: FetchModifiers = { changedSince: null, vanished: false };
  if (list === null) return result;
  if (list.length === 0) throw new ImapProtocolError("BAD", "Empty FETCH modifier list");
  for (let i = 0; i < list.length; i++) {
    const token = list[i]!;
    const name = token.type === "atom" ? token.value.toUpperCase() : "";
    if (name === "CHANGEDSINCE" && result.changedSince === null) {
      const value = list[++i];
      if (value?.type !== "atom" || !/^[0-9]{1,19}$/.test(value.value)) throw new ImapProtocolError("BAD", "CHANGEDSINCE needs a mod-sequence");
      const n = Number(value.value);
      if (!Number.isSafeInteger(n)) throw new ImapProtocolError("BAD", "CHANGEDSINCE value too large");
      result.changedSince = n;
    } else if (name === "VANISHED" && !result.vanished) {
      result.vanished = true;
    } else {
      throw new ImapProtocolError("BAD", "Unknown FETCH modifier");
    }
  }
  return result;
}

/** Does a UID set name `uid`? `*` stands for `top` (VANISHED must name UIDs no longer in use). */
function inUidSet(set: SequenceSet, uid: number, top: number): boolean {
  return set.items.some((item) => {
    if (item.kind !== "range") return false;
    const a = item.from === "*" ? top : item.from;
    const b = item.to === "*" ? top : item.to;
    return uid >= Math.min(a, b) && uid <= Math.max(a, b);
  });
}

/**
 * Dovecot's order: UID first, then the items without literals in the order asked (FLAGS and
 * MODSEQ added when \Seen was set implicitly), then the sections and BINARY literals. Clients
 * that read FETCH line by line (Python's imaplib) find FLAGS before the body that way.
 */
function orderItems(items: FetchItem[], addFlags: boolean, addModseq: boolean, addUid: boolean): FetchItem[] {
  const hasUid = items.some((i) => i.kind === "UID");
  const uid: FetchItem[] = hasUid || addUid ? [{ kind: "UID" }] : [];
  const literal = (i: FetchItem) => i.kind === "section" || i.kind === "binary";
  const plain = items.filter((i) => i.kind !== "UID" && !literal(i));
  if (addFlags) plain.push({ kind: "FLAGS" });
  if (addModseq) plain.push({ kind: "MODSEQ" });
  return [...uid, ...plain, ...items.filter(literal)];
}

/**
 * Sets \Seen on the messages that lack it; returns the UIDs whose flags changed, and the
 * changes feed piggybacked on the flags call when one was made.
 */
async function markSeen(
  conn: ImapConnection,
  view: MailboxView,
  messages: MessageMeta[],
): Promise<{ changed: Set<number>; changes?: ChangesResult | undefined }> {
  const unseen = messages.filter((m) => !m.flags.includes("\\Seen")).map((m) => m.uid);
  if (unseen.length === 0 || conn.state.kind !== "selected") return { changed: new Set() };
  const accountId = conn.state.principal.accountId;
  const result = await conn.store.storeFlags(accountId, view.mailbox.id, {
    uids: unseen,
    mode: "add",
    flags: ["\\Seen"],
    sinceModseq: view.highestModseq,
  });
  conn.changes.publish({ accountId, mailboxId: view.mailbox.id });
  const updated = new Map(result.updated.map((u) => [u.uid, u]));
  const changed = new Set<number>();
  for (const m of messages) {
    const u = updated.get(m.uid);
    if (!u) continue;
    m.flags = u.flags;
    m.modseq = u.modseq;
    if (u.flags.includes("\\Seen")) changed.add(m.uid);
  }
  return { changed, changes: result.changes };
}

async function writeItem(
  conn: ImapConnection,
  view: MailboxView,
  accountId: number,
  meta: MessageMeta,
  item: FetchItem,
  readAhead: BodyReadAhead,
): Promise<void> {
  switch (item.kind) {
    case "UID":
      return conn.send(`UID ${meta.uid}`);
    case "FLAGS":
      return conn.send(`FLAGS ${flagList(view.clientFlags(meta.uid, meta.flags, isRev2(conn)))}`);
    case "MODSEQ":
      return conn.send(`MODSEQ (${meta.modseq})`);
    case "RFC822.SIZE":
      return conn.send(`RFC822.SIZE ${meta.size}`);
    case "INTERNALDATE":
      return conn.send(`INTERNALDATE ${internalDate(meta.internalDate)}`);
    case "ENVELOPE":
      return conn.send(Buffer.concat([Buffer.from("ENVELOPE "), renderEnvelope(meta.index.envelope)]));
    case "BODYSTRUCTURE":
      return conn.send(Buffer.concat([Buffer.from("BODYSTRUCTURE "), renderBodyStructure(meta.index.body, true)]));
    case "BODY":
      return conn.send(Buffer.concat([Buffer.from("BODY "), renderBodyStructure(meta.index.body, false)]));
    case "section":
      return writeSection(conn, accountId, view.mailbox.id, meta, item, readAhead);
    case "binary":
      return writeBinary(conn, accountId, view.mailbox.id, meta, item);
    case "binarySize": {
      const source = binaryPart(meta.index, item.part);
      const size = source === null ? 0 : (source.size ?? (await decodedLength(conn, accountId, view.mailbox.id, meta.uid, source)));
      return conn.send(`${item.responseName} ${size}`);
    }
  }
}

/** Where a section's octets come from: nothing, a header block to filter, or a byte range to stream. */
type SectionSource =
  | { kind: "empty" }
  | { kind: "fields"; range: SectionRange }
  | { kind: "range"; start: number; end: number };

function sectionSource(meta: MessageMeta, item: SectionItem): SectionSource {
  const fieldsFilter = item.specifier.startsWith("HEADER.FIELDS");
  const sectionSpec = [item.part, fieldsFilter ? "HEADER" : item.specifier].filter(Boolean).join(".");
  const range: SectionRange | null = resolveSection(meta.index, sectionSpec);
  // A part that does not exist reads as empty, as Dovecot answers (RFC 9051 leaves it open).
  if (!range) return { kind: "empty" };
  if (fieldsFilter) return { kind: "fields", range };
  const start = Math.min(range.end, range.start + (item.partial?.offset ?? 0));
  const end = item.partial ? Math.min(range.end, start + item.partial.length) : range.end;
  return end > start ? { kind: "range", start, end } : { kind: "empty" };
}

/** Every byte range this FETCH will stream, in output order, for the read-ahead. */
function plannedReads(messages: MessageMeta[], items: FetchItem[]): PlannedRead[] {
  const reads: PlannedRead[] = [];
  for (const meta of messages) {
    for (const item of items) {
      if (item.kind !== "section") continue;
      const source = sectionSource(meta, item);
      if (source.kind === "range") reads.push({ uid: meta.uid, start: source.start, end: source.end });
    }
  }
  return reads;
}

async function writeSection(
  conn: ImapConnection,
  accountId: number,
  mailboxId: number,
  meta: MessageMeta,
  item: SectionItem,
  readAhead: BodyReadAhead,
): Promise<void> {
  const source = sectionSource(meta, item);
  if (source.kind === "empty") return conn.send(`${item.responseName} {0}\r\n`);
  if (source.kind === "fields") {
    const header = await conn.store.readMessageRange(accountId, mailboxId, meta.uid, source.range);
    const picked = applyPartial(filterHeaderFields(header, item.fields, item.specifier.endsWith(".NOT")), item.partial);
    return conn.send(Buffer.concat([Buffer.from(`${item.responseName} {${picked.length}}\r\n`), picked]));
  }
  const length = source.end - source.start;
  await conn.send(`${item.responseName} {${length}}\r\n`);
  const stream = await readAhead.open({ uid: meta.uid, start: source.start, end: source.end });
  await conn.sendStream(stream, length);
}

function applyPartial(bytes: Buffer, partial: SectionItem["partial"]): Buffer {
  if (!partial) return bytes;
  return bytes.subarray(Math.min(bytes.length, partial.offset), Math.min(bytes.length, partial.offset + partial.length));
}

/** Streams the decoded octets of a part (optionally a window of them). */
async function* decodedOctets(
  conn: ImapConnection,
  accountId: number,
  mailboxId: number,
  uid: number,
  source: BinarySource,
): AsyncGenerator<Buffer> {
  if (source.end <= source.start) return;
  const stream = await conn.store.openMessage(accountId, mailboxId, uid, { start: source.start, end: source.end });
  yield* decodeStream(stream, source.decoding);
}

async function decodedLength(conn: ImapConnection, accountId: number, mailboxId: number, uid: number, source: BinarySource): Promise<number> {
  let n = 0;
  for await (const chunk of decodedOctets(conn, accountId, mailboxId, uid, source)) n += chunk.length;
  return n;
}

/**
 * `BINARY[p]<o> {n}` (or `~{n}`, a literal8, when the octets hold NUL: RFC 3516 §4.3). Parts
 * up to BINARY_BUFFER_LIMIT are decoded once into memory; larger ones always go as literal8
 * (allowed for any content), streamed after their size is known.
 */
async function writeBinary(conn: ImapConnection, accountId: number, mailboxId: number, meta: MessageMeta, item: BinaryItem): Promise<void> {
  const source = binaryPart(meta.index, item.part);
  if (source === null) return conn.send(`${item.responseName} {0}\r\n`);
  const window = (size: number): [number, number] => {
    const from = Math.min(size, item.partial?.offset ?? 0);
    const to = item.partial ? Math.min(size, from + item.partial.length) : size;
    return [from, to];
  };
  let size = source.size;
  if (size === null || size <= BINARY_BUFFER_LIMIT) {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of decodedOctets(conn, accountId, mailboxId, meta.uid, source)) {
      total += chunk.length;
      if (total <= BINARY_BUFFER_LIMIT) chunks.push(chunk);
    }
    size = total;
    if (total <= BINARY_BUFFER_LIMIT) {
      const [from, to] = window(total);
      const bytes = Buffer.concat(chunks).subarray(from, to);
      const prefix = bytes.includes(0) ? "~" : "";
      return conn.send(Buffer.concat([Buffer.from(`${item.responseName} ${prefix}{${bytes.length}}\r\n`), bytes]));
    }
  }
  const [from, to] = window(size);
  await conn.send(`${item.responseName} ~{${to - from}}\r\n`);
  if (to === from) return;
  const decoded = sliceStream(decodedOctets(conn, accountId, mailboxId, meta.uid, source), from, to - from);
  await conn.sendStream(Readable.from(decoded, { objectMode: false }), to - from);
}
