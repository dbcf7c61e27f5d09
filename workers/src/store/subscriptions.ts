/**
 * IMAP subscriptions (SUBSCRIBE, UNSUBSCRIBE, LSUB / LIST (SUBSCRIBED)): a set of names per account.
 *
 * Callers may rely on: a subscription is a name, not a mailbox — subscribing a name that does not
 * exist works, and deleting a mailbox keeps its subscription (RFC 9051 §6.3.9); names are stored
 * canonical (INBOX in upper case); subscribing twice or unsubscribing a name that is not
 * subscribed is a no-op; the list is sorted by name.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { sqlLength, type Db, type Query } from "./db.ts";
import { assertAccount, canonicalName } from "./mailboxes.ts";
import { subscriptions } from "./schema.ts";

export async function setSubscribed(db: Db, accountId: number, name: string, subscribed: boolean): Promise<void> {
  await assertAccount(db, accountId);
  const canonical = canonicalName(name);
  if (subscribed) {
    await db.insert(subscriptions).values({ accountId, name: canonical }).onConflictDoNothing();
  } else {
    await db.delete(subscriptions).where(and(eq(subscriptions.accountId, accountId), eq(subscriptions.name, canonical)));
  }
}

export async function listSubscriptions(db: Db, accountId: number): Promise<string[]> {
  const rows = await db
    .select({ name: subscriptions.name })
    .from(subscriptions)
    .where(eq(subscriptions.accountId, accountId))
    .orderBy(asc(subscriptions.name));
  if (rows.length === 0) await assertAccount(db, accountId);
  return rows.map((r) => r.name);
}

/** Statement for a batch: subscribe these names (new mailboxes are subscribed by default). */
export function subscribeStatement(db: Db, accountId: number, names: readonly string[]) {
  return db
    .insert(subscriptions)
    .values(names.map((name) => ({ accountId, name: canonicalName(name) })))
    .onConflictDoNothing();
}

/**
 * Statements for a batch: the subscriptions of `from` and of every name below it follow a
 * RENAME to `to` (a subscribed mailbox stays subscribed under its new name).
 */
export function renameSubscriptionStatements(db: Db, accountId: number, from: string, to: string): Query[] {
  const length = sqlLength(from);
  const moved = sql`(${subscriptions.name} = ${from} OR substr(${subscriptions.name}, 1, ${length + 1}) = ${from + "/"})`;
  return [
    sql`INSERT OR IGNORE INTO ${subscriptions} (account_id, name)
      SELECT account_id, ${to} || substr(name, ${length + 1}) FROM ${subscriptions}
      WHERE ${subscriptions.accountId} = ${accountId} AND ${moved}`,
    db.delete(subscriptions).where(and(eq(subscriptions.accountId, accountId), moved)),
  ];
}
