/**
 * Mailboxes: listing and the SELECT snapshot (DESIGN.md §3).
 *
 * Callers may rely on: every lookup is by account id AND name/id, so another account's mailbox is
 * never found; the name "INBOX" matches case-insensitively (RFC 3501 §5.1), every other name
 * exactly; a snapshot is read in one D1 batch, so mailbox counters and message list agree.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Mailbox, MailboxSnapshot, SpecialUse } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import type { Db } from "./db.ts";
import { accounts, mailboxes, messages, type MailboxRow } from "./schema.ts";

/** Created with every account, in this order (INBOX first, so it gets the lowest id). */
export const DEFAULT_MAILBOXES: readonly { name: string; role: SpecialUse }[] = [
  { name: "INBOX", role: "inbox" },
  { name: "Sent", role: "sent" },
  { name: "Drafts", role: "drafts" },
  { name: "Junk", role: "junk" },
  { name: "Trash", role: "trash" },
];

export async function listMailboxes(db: Db, accountId: number): Promise<Mailbox[]> {
  const rows = await db.select().from(mailboxes).where(eq(mailboxes.accountId, accountId)).orderBy(asc(mailboxes.id));
  // Every account has an INBOX, so no rows means no account; only then is the extra query paid.
  if (rows.length === 0) {
    const account = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).limit(1);
    if (account.length === 0) throw apiError("not_found", "No such account");
  }
  return rows.map(toMailbox);
}

export async function findMailbox(db: Db, accountId: number, mailboxId: number): Promise<MailboxRow | undefined> {
  const rows = await db
    .select()
    .from(mailboxes)
    .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId)))
    .limit(1);
  return rows[0];
}

export async function selectMailbox(db: Db, accountId: number, name: string): Promise<MailboxSnapshot> {
  const wanted = canonicalName(name);
  const mailboxId = sql`(SELECT ${mailboxes.id} FROM ${mailboxes} WHERE ${mailboxes.accountId} = ${accountId} AND ${mailboxes.name} = ${wanted})`;
  const [found, list] = await db.batch([
    db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, wanted))),
    db
      .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq })
      .from(messages)
      .where(and(eq(messages.accountId, accountId), sql`${messages.mailboxId} = ${mailboxId}`))
      .orderBy(asc(messages.uid)),
  ]);
  const mailbox = found[0];
  if (!mailbox) throw apiError("no_such_mailbox");
  return { mailbox: toMailbox(mailbox), messages: list, recentFromUid: mailbox.uidnext };
}

export function canonicalName(name: string): string {
  return name.toUpperCase() === "INBOX" ? "INBOX" : name;
}

export function toMailbox(row: MailboxRow): Mailbox {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    subscribed: row.subscribed,
    uidvalidity: row.uidvalidity,
    uidnext: row.uidnext,
    highestmodseq: row.highestmodseq,
  };
}
