/**
 * Mailboxes: names, lookups, the list, the SELECT snapshot and STATUS (DESIGN.md §3). Creating,
 * deleting and renaming live in store/hierarchy.ts.
 *
 * Callers may rely on: every lookup is by account id AND name/id, so another account's mailbox is
 * never found; the name "INBOX" matches case-insensitively (RFC 3501 §5.1), also as the first
 * level of a hierarchical name ("inbox/x" is "INBOX/x"), every other name exactly; a snapshot is
 * read in one D1 batch, so mailbox counters and message list agree, and a SELECT that claims
 * \Recent reads and moves the recent mark in that same batch (a transaction), so two sessions
 * never both get the same message as \Recent; `Mailbox.subscribed` is whether the name is in
 * the account's subscriptions (store/subscriptions.ts).
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Mailbox, MailboxSnapshot, MailboxStatus, SpecialUse } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, type Db } from "./db.ts";
import { hasFlag } from "./flags.ts";
import { accounts, mailboxes, messages, subscriptions, type MailboxRow } from "./schema.ts";

/** Created with every account, in this order (INBOX first, so it gets the lowest id). */
export const DEFAULT_MAILBOXES: readonly { name: string; role: SpecialUse }[] = [
  { name: "INBOX", role: "inbox" },
  { name: "Sent", role: "sent" },
  { name: "Drafts", role: "drafts" },
  { name: "Junk", role: "junk" },
  { name: "Trash", role: "trash" },
];

/** The hierarchy delimiter IMAP LIST reports. */
export const DELIMITER = "/";

/** A mailbox row with whether its name is subscribed: what {@link toMailbox} needs. */
export type MailboxWithSubscription = MailboxRow & { subscribed: boolean };

/** Select fields for a mailbox row plus its subscription, for any query FROM mailboxes. */
export const mailboxFields = {
  id: mailboxes.id,
  accountId: mailboxes.accountId,
  name: mailboxes.name,
  role: mailboxes.role,
  uidvalidity: mailboxes.uidvalidity,
  uidnext: mailboxes.uidnext,
  highestmodseq: mailboxes.highestmodseq,
  recentUid: mailboxes.recentUid,
  createdAt: mailboxes.createdAt,
  // Written out qualified: drizzle leaves columns unqualified in one-table selects, and inside this
  // subquery an unqualified "name" would be the subscription's own.
  subscribed: sql<boolean>`EXISTS (SELECT 1 FROM ${subscriptions} AS s WHERE s.account_id = "mailboxes"."account_id" AND s.name = "mailboxes"."name")`.mapWith(
    (v) => v === 1 || v === true,
  ),
};

export async function listMailboxes(db: Db, accountId: number): Promise<Mailbox[]> {
  const rows = await db.select(mailboxFields).from(mailboxes).where(eq(mailboxes.accountId, accountId)).orderBy(asc(mailboxes.id));
  // Every account has an INBOX, so no rows means no account; only then is the extra query paid.
  if (rows.length === 0) await assertAccount(db, accountId);
  return rows.map(toMailbox);
}

export async function assertAccount(db: Db, accountId: number): Promise<void> {
  const account = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).limit(1);
  if (account.length === 0) throw apiError("not_found", "No such account");
}

export async function findMailbox(db: Db, accountId: number, mailboxId: number): Promise<MailboxRow | undefined> {
  const rows = await db
    .select()
    .from(mailboxes)
    .where(and(eq(mailboxes.id, mailboxId), eq(mailboxes.accountId, accountId)))
    .limit(1);
  return rows[0];
}

/** The query for one mailbox by (canonicalized) name; usable alone or in a batch. */
export function mailboxByName(db: Db, accountId: number, name: string) {
  return db
    .select(mailboxFields)
    .from(mailboxes)
    .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, canonicalName(name))));
}

/** The id of a named mailbox as a subquery, for statements that must resolve it inside their batch. */
export function mailboxIdByName(accountId: number, name: string) {
  return sql`(SELECT ${mailboxes.id} FROM ${mailboxes} WHERE ${mailboxes.accountId} = ${accountId} AND ${mailboxes.name} = ${canonicalName(name)})`;
}

export async function selectMailbox(db: Db, accountId: number, name: string, claimRecent = false): Promise<MailboxSnapshot> {
  const wanted = canonicalName(name);
  const thisMailbox = and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, wanted));
  const read = [
    mailboxByName(db, accountId, wanted),
    db
      .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq })
      .from(messages)
      .where(and(eq(messages.accountId, accountId), sql`${messages.mailboxId} = ${mailboxIdByName(accountId, wanted)}`))
      .orderBy(asc(messages.uid)),
  ] as const;
  // The read above sees the mark before this UPDATE moves it: same transaction, statements in order.
  const [found, list] = claimRecent
    ? await db.batch([...read, db.update(mailboxes).set({ recentUid: sql`${mailboxes.uidnext}` }).where(thisMailbox)])
    : await db.batch(read);
  const mailbox = found[0];
  if (!mailbox) throw apiError("no_such_mailbox");
  return { mailbox: toMailbox(mailbox), messages: list, recentFromUid: Math.min(mailbox.recentUid, mailbox.uidnext) };
}

/**
 * STATUS for the named mailboxes (all of the account's without names), counted by ONE grouped
 * query. Any unknown name fails the whole call with no_such_mailbox. Ordered by mailbox id.
 */
export async function mailboxStatus(db: Db, accountId: number, names?: readonly string[]): Promise<MailboxStatus[]> {
  const wanted = names ? [...new Set(names.map(canonicalName))] : undefined;
  const rows = await db
    .select({
      ...mailboxFields,
      messages: sql<number>`count(${messages.id})`.mapWith(Number),
      unseen: sql<number>`coalesce(sum(${messages.id} IS NOT NULL AND NOT ${hasFlag(messages.flags, "\\Seen")}), 0)`.mapWith(Number),
      deleted: sql<number>`coalesce(sum(${hasFlag(messages.flags, "\\Deleted")}), 0)`.mapWith(Number),
      size: sql<number>`coalesce(sum(${messages.size}), 0)`.mapWith(Number),
      deletedSize: sql<number>`coalesce(sum(CASE WHEN ${hasFlag(messages.flags, "\\Deleted")} THEN ${messages.size} ELSE 0 END), 0)`.mapWith(Number),
      recent: sql<number>`coalesce(sum(${messages.uid} >= ${mailboxes.recentUid}), 0)`.mapWith(Number),
    })
    .from(mailboxes)
    .leftJoin(messages, eq(messages.mailboxId, mailboxes.id))
    .where(
      and(
        eq(mailboxes.accountId, accountId),
        wanted ? sql`${mailboxes.name} IN (SELECT value FROM json_each(${jsonList(wanted)}))` : undefined,
      ),
    )
    .groupBy(mailboxes.id)
    .orderBy(asc(mailboxes.id));
  if (wanted && rows.length !== wanted.length) throw apiError("no_such_mailbox");
  if (!wanted && rows.length === 0) await assertAccount(db, accountId);
  return rows.map((r) => ({
    ...toMailbox(r),
    messages: r.messages,
    unseen: r.unseen,
    deleted: r.deleted,
    size: r.size,
    deletedSize: r.deletedSize,
    recent: r.recent,
  }));
}

/** "INBOX" in any case is INBOX, also as the first level of a longer name. */
export function canonicalName(name: string): string {
  const first = name.split(DELIMITER, 1)[0]!;
  return first.toUpperCase() === "INBOX" ? "INBOX" + name.slice(first.length) : name;
}

/**
 * The levels of a name that may be created: no empty level (so no leading, trailing or doubled
 * delimiter). Throws bad_request otherwise.
 */
export function nameLevels(name: string): string[] {
  const levels = name.split(DELIMITER);
  if (levels.some((l) => l.length === 0)) throw apiError("bad_request", "Mailbox name has an empty hierarchy level");
  return levels;
}

/** "a/b/c" → ["a", "a/b"]: the superiors CREATE and RENAME create when missing. */
export function parentNames(name: string): string[] {
  const levels = nameLevels(name);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(DELIMITER));
}

export function toMailbox(row: MailboxWithSubscription): Mailbox {
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
