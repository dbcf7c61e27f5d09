/**
 * COPY and MOVE (RFC 9051 §6.4.7, RFC 6851) between two mailboxes of one account, and the move
 * that RENAME INBOX performs (store/hierarchy.ts).
 *
 * Callers may rely on: each call is ONE D1 batch (a transaction): the target's UIDNEXT and
 * HIGHESTMODSEQ advance, the new messages get consecutive UIDs in ascending source-UID order and
 * the target's new MODSEQ; a MOVE also gives the source one new MODSEQ and a tombstone per moved
 * UID (store/changes.ts), so a client never sees a message in both mailboxes or in neither.
 * A copy is a new row sharing the source's blob (blobs are never deleted while referenced) with
 * the same flags, internal date and search fields, plus its own row of body text; a move keeps
 * its row (id, blob, body text) and changes only mailbox, UID and MODSEQ. UIDs that do not exist
 * in the source are skipped; if none exist, nothing is written. The mapping is
 * [source UID, new UID], ascending by source UID (COPYUID, RFC 4315).
 */
import { and, asc, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { CopyResult } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, runBatch, type Db, type Query } from "./db.ts";
import { mailboxByName } from "./mailboxes.ts";
import { assertQuota, quotaQuery } from "./quota.ts";
import { expunged, mailboxes, messages } from "./schema.ts";

/** A copy takes over every column except where the message is, what it is called there, and where it came from. */
const PLACEMENT = new Set(["id", "account_id", "mailbox_id", "uid", "modseq", "delivery_id", "created_at"]);
const CONTENT_COLUMNS = Object.values(getTableColumns(messages))
  .map((c) => c.name)
  .filter((name) => !PLACEMENT.has(name));

export async function copyMessages(
  db: Db,
  accountId: number,
  sourceId: number,
  req: { uids: readonly number[]; target: string; move: boolean },
  now = Date.now(),
): Promise<CopyResult> {
  const [source, target, rows, quota] = await db.batch([
    db
      .select({ id: mailboxes.id, highestmodseq: mailboxes.highestmodseq })
      .from(mailboxes)
      .where(and(eq(mailboxes.id, sourceId), eq(mailboxes.accountId, accountId))),
    mailboxByName(db, accountId, req.target),
    db
      .select({ uid: messages.uid, size: messages.size })
      .from(messages)
      .where(
        and(
          eq(messages.accountId, accountId),
          eq(messages.mailboxId, sourceId),
          sql`${messages.uid} IN (SELECT value FROM json_each(${jsonList([...new Set(req.uids)])}))`,
        ),
      )
      .orderBy(asc(messages.uid)),
    quotaQuery(db, [accountId]),
  ]);
  const from = source[0];
  if (!from) throw apiError("no_such_mailbox");
  const to = target[0];
  if (!to) throw apiError("try_create");
  if (req.move && to.id === from.id) throw apiError("cannot", "Cannot move messages into the mailbox they are in");
  const uids = rows.map((r) => r.uid);
  if (uids.length === 0) return { uidvalidity: to.uidvalidity, mapping: [], highestmodseq: from.highestmodseq };
  // A move adds nothing to the account's usage; a copy adds every copied octet again.
  if (!req.move) assertQuota(quota, new Map([[accountId, rows.reduce((sum, r) => sum + r.size, 0)]]));

  const targetId = sql`${to.id}`;
  const statements = req.move ? moveStatements(db, accountId, sourceId, targetId, uids) : copyStatements(accountId, sourceId, targetId, uids, now);
  const results = await runBatch<{ uid: number; uidnext: number; highestmodseq: number }>(db, statements);
  const bumped = results[0]!.results[0];
  if (!bumped) throw apiError("try_create"); // the target vanished between the read and the batch
  const base = bumped.uidnext - uids.length;
  const mapping = results[req.move ? MOVED : COPIED]!.results
    .map((r): [number, number] => [uids[r.uid - base]!, r.uid])
    .sort((a, b) => a[0] - b[0]);
  const highestmodseq = req.move
    ? results[1]!.results[0]!.highestmodseq
    : to.id === from.id
      ? bumped.highestmodseq
      : from.highestmodseq;
  return { uidvalidity: to.uidvalidity, mapping, highestmodseq };
}

/** Where the new UIDs are RETURNED in the statements below. */
const COPIED = 1;
const MOVED = 3;

/** Reserves `count` UIDs and one MODSEQ in the target; RETURNING the advanced counters. */
function reserve(accountId: number, targetId: SQL, count: number): Query {
  return sql`UPDATE ${mailboxes} SET uidnext = uidnext + ${count}, highestmodseq = highestmodseq + 1
    WHERE id = ${targetId} AND account_id = ${accountId}
    RETURNING uidnext, highestmodseq`;
}

/**
 * The target row `b` must already be advanced by {@link reserve}: the UID of the k-th message
 * (0-based, ascending source UID) is b.uidnext - count + k.
 */
function copyStatements(accountId: number, sourceId: number, targetId: SQL, uids: readonly number[], now: number): Query[] {
  const list = jsonList(uids);
  const columns = sql.raw(CONTENT_COLUMNS.join(", "));
  const fromSource = sql.raw(CONTENT_COLUMNS.map((c) => `src.${c}`).join(", "));
  return [
    reserve(accountId, targetId, uids.length),
    // A copy is no delivery: delivery_id stays NULL, so replaying the delivery does not report it.
    sql`INSERT INTO ${messages} (account_id, mailbox_id, uid, modseq, delivery_id, created_at, ${columns})
      SELECT src.account_id, b.id, b.uidnext - ${uids.length} + j.key, b.highestmodseq, NULL, ${now}, ${fromSource}
      FROM json_each(${list}) AS j
      JOIN ${messages} AS src ON src.mailbox_id = ${sourceId} AND src.account_id = ${accountId} AND src.uid = j.value
      JOIN ${mailboxes} AS b ON b.id = ${targetId} AND b.account_id = ${accountId}
      ORDER BY j.key
      RETURNING uid`,
    // The text row needs the new row's id, so it follows the copy, matched by the new UID.
    sql`INSERT INTO messages_fts (rowid, body)
      SELECT dst.id, f.body
      FROM json_each(${list}) AS j
      JOIN ${messages} AS src ON src.mailbox_id = ${sourceId} AND src.account_id = ${accountId} AND src.uid = j.value
      JOIN messages_fts AS f ON f.rowid = src.id
      JOIN ${mailboxes} AS b ON b.id = ${targetId} AND b.account_id = ${accountId}
      JOIN ${messages} AS dst ON dst.mailbox_id = b.id AND dst.uid = b.uidnext - ${uids.length} + j.key`,
  ];
}

/**
 * MOVE as statements for one batch: [reserve in target, new MODSEQ in source, tombstones, the
 * move itself RETURNING the new UIDs]. The rows keep their id, so their body text stays theirs.
 */
export function moveStatements(db: Db, accountId: number, sourceId: number, targetId: SQL, uids: readonly number[]): Query[] {
  const list = jsonList(uids);
  const inSource = sql`${messages.mailboxId} = ${sourceId} AND ${messages.accountId} = ${accountId} AND ${messages.uid} IN (SELECT value FROM json_each(${list}))`;
  // If the target vanished after the caller looked it up, nothing moves: the source side must not pretend otherwise.
  const targetExists = sql`EXISTS (SELECT 1 FROM ${mailboxes} AS t WHERE t.id = ${targetId} AND t.account_id = ${accountId})`;
  return [
    reserve(accountId, targetId, uids.length),
    db
      .update(mailboxes)
      .set({ highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
      .where(and(eq(mailboxes.id, sourceId), eq(mailboxes.accountId, accountId), targetExists))
      .returning({ highestmodseq: mailboxes.highestmodseq }),
    sql`INSERT INTO ${expunged} (mailbox_id, uid, modseq)
      SELECT ${sourceId}, ${messages.uid}, (SELECT highestmodseq FROM ${mailboxes} WHERE id = ${sourceId})
      FROM ${messages} WHERE ${inSource} AND ${targetExists}`,
    sql`UPDATE ${messages} SET mailbox_id = b.id, uid = b.uidnext - ${uids.length} + j.key, modseq = b.highestmodseq
      FROM json_each(${list}) AS j, ${mailboxes} AS b
      WHERE b.id = ${targetId} AND b.account_id = ${accountId}
        AND ${messages.mailboxId} = ${sourceId} AND ${messages.accountId} = ${accountId} AND ${messages.uid} = j.value
      RETURNING uid`,
  ];
}
