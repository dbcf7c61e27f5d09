/**
 * The changes feed (CONDSTORE/QRESYNC, RFC 7162): what happened in a mailbox after a MODSEQ —
 * messages added or re-flagged, and UIDs expunged — which serves NOOP, IDLE and SELECT (QRESYNC).
 *
 * Callers may rely on: mailbox, messages and tombstones are read in ONE batch, so they describe
 * one moment and `mailbox.highestmodseq` covers everything returned; messages and expunged UIDs
 * are ascending by UID; a message that was added and then expunged after `sinceModseq` appears
 * only as expunged.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { ChangesResult } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import type { Db } from "./db.ts";
import { mailboxFields, toMailbox } from "./mailboxes.ts";
import { expunged, mailboxes, messages } from "./schema.ts";

export async function changesSince(db: Db, accountId: number, mailboxId: number, sinceModseq: number): Promise<ChangesResult> {
  const [found, changed, gone] = await db.batch([
    db
      .select(mailboxFields)
      .from(mailboxes)
      .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId))),
    db
      .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq })
      .from(messages)
      .where(and(eq(messages.accountId, accountId), eq(messages.mailboxId, mailboxId), gt(messages.modseq, sinceModseq)))
      .orderBy(asc(messages.uid)),
    db
      .selectDistinct({ uid: expunged.uid })
      .from(expunged)
      .where(
        and(
          eq(expunged.mailboxId, mailboxId),
          gt(expunged.modseq, sinceModseq),
          // Scoped like everything else, though the mailbox check below would discard the rows anyway.
          sql`EXISTS (SELECT 1 FROM ${mailboxes} WHERE ${mailboxes.id} = ${mailboxId} AND ${mailboxes.accountId} = ${accountId})`,
        ),
      )
      .orderBy(asc(expunged.uid)),
  ]);
  const mailbox = found[0];
  if (!mailbox) throw apiError("no_such_mailbox");
  return { mailbox: toMailbox(mailbox), messages: changed, expunged: gone.map((r) => r.uid) };
}
