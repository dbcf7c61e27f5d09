/**
 * Messages of one mailbox: metadata for a UID set (one call per IMAP FETCH), the blob behind one
 * UID, and flag changes (IMAP STORE) with per-mailbox MODSEQ (RFC 7162).
 *
 * Callers may rely on: every query is scoped by account AND mailbox, so a mailbox id of another
 * account yields `no_such_mailbox`; results are ascending by UID and absent UIDs are left out;
 * UID lists of any length are passed as one JSON parameter (D1 allows 100 bound parameters).
 * `storeFlags` gives a new MODSEQ only to messages whose flags change; all changed messages of
 * one call share that MODSEQ, which becomes the mailbox's HIGHESTMODSEQ; `updated` lists exactly
 * the messages that changed; with `unchangedSince` (CONDSTORE), a message whose MODSEQ is higher
 * — also because a concurrent STORE changed it while this one ran — is left alone and listed in
 * `modified` (ascending).
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { MessageFlags, MessageMeta, StoreFlagsResult } from "../../../common/contract.ts";
import type { MessageIndex } from "../../../common/mime/index.ts";
import { apiError } from "../errors.ts";
import { jsonList, statement, type Db } from "./db.ts";
import { applyFlags, sameFlags, type FlagMode } from "./flags.ts";
import { mailboxes, messages } from "./schema.ts";

/** Rows per flag-update statement: keeps its JSON parameter far below D1's 2 MB value limit. */
const FLAG_UPDATE_CHUNK = 2000;
/** A concurrent STORE on the same messages makes us re-read and re-apply; give up after this many rounds. */
const FLAG_UPDATE_ATTEMPTS = 5;

function mailboxOf(db: Db, accountId: number, mailboxId: number) {
  return db
    .select({ id: mailboxes.id, highestmodseq: mailboxes.highestmodseq })
    .from(mailboxes)
    .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId)));
}

function inUids(uids: readonly number[]) {
  return sql`${messages.uid} IN (SELECT value FROM json_each(${jsonList([...new Set(uids)])}))`;
}

export async function fetchMessages(db: Db, accountId: number, mailboxId: number, uids: readonly number[]): Promise<MessageMeta[]> {
  const [mailbox, rows] = await db.batch([
    mailboxOf(db, accountId, mailboxId),
    db
      .select({
        uid: messages.uid,
        modseq: messages.modseq,
        flags: messages.flags,
        internalDate: messages.internalDate,
        size: messages.size,
        headerSize: messages.headerSize,
        envelope: messages.envelope,
        body: messages.bodystructure,
      })
      .from(messages)
      .where(and(eq(messages.accountId, accountId), eq(messages.mailboxId, mailboxId), inUids(uids)))
      .orderBy(asc(messages.uid)),
  ]);
  if (mailbox.length === 0) throw apiError("no_such_mailbox");
  return rows.map((r) => ({
    uid: r.uid,
    modseq: r.modseq,
    flags: r.flags,
    internalDate: r.internalDate,
    size: r.size,
    index: { size: r.size, headerSize: r.headerSize, envelope: r.envelope, body: r.body } as unknown as MessageIndex,
  }));
}

export async function findMessageBlob(
  db: Db,
  accountId: number,
  mailboxId: number,
  uid: number,
): Promise<{ blobKey: string; size: number } | undefined> {
  const rows = await db
    .select({ blobKey: messages.blobKey, size: messages.size })
    .from(messages)
    .where(and(eq(messages.accountId, accountId), eq(messages.mailboxId, mailboxId), eq(messages.uid, uid)))
    .limit(1);
  return rows[0];
}

export async function storeFlags(
  db: Db,
  accountId: number,
  mailboxId: number,
  req: { uids: readonly number[]; mode: FlagMode; flags: readonly string[]; unchangedSince?: number | undefined },
): Promise<StoreFlagsResult> {
  const updated = new Map<number, MessageFlags>();
  const modified = new Set<number>();
  const done = (highestmodseq: number): StoreFlagsResult => ({
    updated: sorted(updated),
    highestmodseq,
    modified: [...modified].sort((a, b) => a - b),
  });
  for (let attempt = 0; attempt < FLAG_UPDATE_ATTEMPTS; attempt++) {
    const [mailbox, rows] = await db.batch([
      mailboxOf(db, accountId, mailboxId),
      db
        .select({ id: messages.id, uid: messages.uid, flags: messages.flags, modseq: messages.modseq })
        .from(messages)
        .where(and(eq(messages.accountId, accountId), eq(messages.mailboxId, mailboxId), inUids(req.uids))),
    ]);
    const box = mailbox[0];
    if (!box) throw apiError("no_such_mailbox");
    const since = req.unchangedSince;
    for (const r of rows) if (since !== undefined && r.modseq > since && !updated.has(r.uid)) modified.add(r.uid);
    const changes = rows
      .filter((r) => !modified.has(r.uid))
      .map((r) => ({ ...r, next: applyFlags(r.flags, req.mode, req.flags) }))
      .filter((r) => !sameFlags(r.flags, r.next));
    if (changes.length === 0) return done(box.highestmodseq);

    // One transaction: bump HIGHESTMODSEQ, then give each changed row that value — but only if the
    // row still has the MODSEQ we read; a row a concurrent STORE changed meanwhile is left alone and
    // retried on top of that change in the next round.
    const [bumped, ...chunks] = await db.$client.batch<{ highestmodseq: number; uid: number; flags: string; modseq: number }>([
      statement(
        db,
        db
          .update(mailboxes)
          .set({ highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
          .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId)))
          .returning({ highestmodseq: mailboxes.highestmodseq }),
      ),
      ...chunk(changes, FLAG_UPDATE_CHUNK).map((part) =>
        statement(
          db,
          sql`
          UPDATE ${messages}
          SET flags = json_extract(j.value, '$[2]'),
              modseq = (SELECT highestmodseq FROM ${mailboxes} WHERE id = ${mailboxId})
          FROM json_each(${JSON.stringify(part.map((r) => [r.id, r.modseq, r.next]))}) AS j
          WHERE messages.id = json_extract(j.value, '$[0]')
            AND messages.modseq = json_extract(j.value, '$[1]')
            AND messages.account_id = ${accountId}
            AND messages.mailbox_id = ${mailboxId}
          RETURNING uid, flags, modseq`,
        ),
      ),
    ]);
    const highestmodseq = bumped?.results[0]?.highestmodseq;
    if (highestmodseq === undefined) throw apiError("no_such_mailbox");
    let written = 0;
    for (const rowsOfChunk of chunks) {
      for (const r of rowsOfChunk.results) {
        updated.set(r.uid, { uid: r.uid, flags: JSON.parse(r.flags) as string[], modseq: r.modseq });
        written++;
      }
    }
    if (written === changes.length) return done(highestmodseq);
  }
  throw apiError("unavailable", "Too many concurrent flag changes, try again");
}

function sorted(m: Map<number, MessageFlags>): MessageFlags[] {
  return [...m.values()].sort((a, b) => a.uid - b.uid);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
