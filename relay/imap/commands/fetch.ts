/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5). One edge call gets the metadata of every message the
 * set names (never one per message); body sections are located by the offsets computed at
 * ingest and streamed from the edge, each reading only its own byte range.
 */
import type { MessageMeta } from "../../../common/contract.ts";
import { resolveSection, type SectionRange } from "../../../common/mime/sections.ts";
import type { ImapConnection } from "../connection.ts";
import { filterHeaderFields } from "../fetch/header-fields.ts";
import { parseFetchItems, type FetchItem, type SectionItem } from "../fetch/items.ts";
import { flagList, internalDate } from "../protocol/writer.ts";
import { renderBodyStructure } from "../render/bodystructure.ts";
import { renderEnvelope } from "../render/envelope.ts";
import type { CommandSpec } from "./types.ts";

export const fetch: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const set = args.sequenceSet();
    const items = parseFetchItems(
      args.peek()?.type === "list" ? { type: "list", items: args.list() } : { type: "atom", value: args.atom() },
    );
    args.end();
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    if (byUid && !items.some((i) => i.kind === "UID")) items.unshift({ kind: "UID" });
    const uids = view.resolve(set, byUid);
    if (uids.length === 0) return { text: "Fetch completed." };

    const { messages } = await conn.store.fetchMessages(principal.accountId, view.mailbox.id, uids);
    const setsSeen = !view.readOnly && items.some((i) => i.kind === "section" && !i.peek);
    if (setsSeen) await markSeen(conn, messages);
    const wantsFlags = items.some((i) => i.kind === "FLAGS");

    for (const meta of messages) {
      const seq = view.seqOf(meta.uid);
      if (seq === undefined) continue; // expunged by another session since the view was built
      view.setFlags(meta.uid, meta.flags);
      const ordered = orderItems(items, setsSeen && !wantsFlags);
      await conn.send(`* ${seq} FETCH (`);
      let first = true;
      for (const item of ordered) {
        await conn.send(first ? "" : " ");
        first = false;
        await writeItem(conn, principal.accountId, view.mailbox.id, meta, item);
      }
      await conn.send(")\r\n");
    }
    return { text: "Fetch completed." };
  },
};

/** UID first, as Dovecot does; FLAGS appended when \Seen was set implicitly (RFC 9051 §6.4.5). */
function orderItems(items: FetchItem[], addFlags: boolean): FetchItem[] {
  const uid = items.filter((i) => i.kind === "UID").slice(0, 1);
  const rest = items.filter((i) => i.kind !== "UID");
  return [...uid, ...rest, ...(addFlags ? [{ kind: "FLAGS" } as FetchItem] : [])];
}

async function markSeen(conn: ImapConnection, messages: MessageMeta[]): Promise<void> {
  if (conn.state.kind !== "selected") return;
  const unseen = messages.filter((m) => !m.flags.includes("\\Seen")).map((m) => m.uid);
  if (unseen.length === 0) return;
  const { view, principal } = conn.state;
  const result = await conn.store.storeFlags(principal.accountId, view.mailbox.id, {
    uids: unseen,
    mode: "add",
    flags: ["\\Seen"],
  });
  const updated = new Map(result.updated.map((u) => [u.uid, u]));
  for (const m of messages) {
    const u = updated.get(m.uid);
    if (u) {
      m.flags = u.flags;
      m.modseq = u.modseq;
    }
  }
}

async function writeItem(
  conn: ImapConnection,
  accountId: number,
  mailboxId: number,
  meta: MessageMeta,
  item: FetchItem,
): Promise<void> {
  switch (item.kind) {
    case "UID":
      return conn.send(`UID ${meta.uid}`);
    case "FLAGS":
      return conn.send(`FLAGS ${flagList(meta.flags)}`);
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
      return writeSection(conn, accountId, mailboxId, meta, item);
  }
}

async function writeSection(
  conn: ImapConnection,
  accountId: number,
  mailboxId: number,
  meta: MessageMeta,
  item: SectionItem,
): Promise<void> {
  const fieldsFilter = item.specifier.startsWith("HEADER.FIELDS");
  const sectionSpec = [item.part, fieldsFilter ? "HEADER" : item.specifier].filter(Boolean).join(".");
  const range: SectionRange | null = resolveSection(meta.index, sectionSpec);
  if (!range) {
    // A part that does not exist reads as empty, as Dovecot answers (RFC 9051 leaves it open).
    return conn.send(`${item.responseName} {0}\r\n`);
  }
  if (fieldsFilter) {
    const header = await conn.store.readMessageRange(accountId, mailboxId, meta.uid, range);
    const picked = applyPartial(filterHeaderFields(header, item.fields, item.specifier.endsWith(".NOT")), item.partial);
    return conn.send(Buffer.concat([Buffer.from(`${item.responseName} {${picked.length}}\r\n`), picked]));
  }
  const start = Math.min(range.end, range.start + (item.partial?.offset ?? 0));
  const end = item.partial ? Math.min(range.end, start + item.partial.length) : range.end;
  const length = end - start;
  await conn.send(`${item.responseName} {${length}}\r\n`);
  if (length === 0) return;
  const stream = await conn.store.openMessage(accountId, mailboxId, meta.uid, { start, end });
  await conn.sendStream(stream, length);
}

function applyPartial(bytes: Buffer, partial: SectionItem["partial"]): Buffer {
  if (!partial) return bytes;
  return bytes.subarray(Math.min(bytes.length, partial.offset), Math.min(bytes.length, partial.offset + partial.length));
}
