/**
 * EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, §6.4.9): removes the \Deleted messages of a mailbox.
 *
 * Callers may rely on: ONE D1 batch (a transaction) decides which messages go, gives the mailbox
 * one new MODSEQ, writes a tombstone per expunged UID with that MODSEQ (what store/changes.ts and
 * QRESYNC read), and deletes the rows — their body text goes with them (trigger of migration
 * 0002), their blobs stay for the collector. A message whose \Deleted flag a concurrent STORE
 * removed first is kept. Nothing to expunge changes nothing, not even HIGHESTMODSEQ. The
 * expunged UIDs are returned ascending.
 */
import { and, eq, sql } from "drizzle-orm";
import type { ExpungeResult } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, runBatch, type Db } from "./db.ts";
import { hasFlag } from "./flags.ts";
import { expunged, mailboxes, messages } from "./schema.ts";

export async function expungeMessages(db: Db, accountId: number, mailboxId: number, uids?: readonly number[]): Promise<ExpungeResult> {
  const doomed = and(
    eq(messages.mailboxId, mailboxId),
    eq(messages.accountId, accountId),
    hasFlag(messages.flags, "\\Deleted"),
    uids ? sql`${messages.uid} IN (SELECT value FROM json_each(${jsonList([...new Set(uids)])}))` : undefined,
  )!;
  const thisMailbox = and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId));
  const [, , deleted, mailbox] = await runBatch<{ uid: number; highestmodseq: number }>(db, [
    db
      .update(mailboxes)
      .set({ highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
      .where(and(thisMailbox, sql`EXISTS (SELECT 1 FROM ${messages} WHERE ${doomed})`)),
    sql`INSERT INTO ${expunged} (mailbox_id, uid, modseq)
      SELECT ${messages.mailboxId}, ${messages.uid}, (SELECT highestmodseq FROM ${mailboxes} WHERE id = ${mailboxId})
      FROM ${messages} WHERE ${doomed}`,
    sql`DELETE FROM ${messages} WHERE ${doomed} RETURNING uid`,
    db.select({ highestmodseq: mailboxes.highestmodseq }).from(mailboxes).where(thisMailbox),
  ]);
  const box = mailbox!.results[0];
  if (!box) throw apiError("no_such_mailbox");
  return { expunged: deleted!.results.map((r) => r.uid).sort((a, b) => a - b), highestmodseq: box.highestmodseq };
}
