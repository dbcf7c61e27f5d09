/**
 * The mailbox hierarchy: CREATE, DELETE and RENAME (RFC 9051 §6.3.4–6.3.6), with "/" as the
 * delimiter and Dovecot's choices where the RFC leaves one.
 *
 * Callers may rely on: each operation is ONE D1 batch (a transaction) after its checks;
 * - create: missing superiors are created too, as ordinary mailboxes ("a/b/c" creates "a" and
 *   "a/b"); every mailbox created is subscribed; a name with an empty level is bad_request, an
 *   existing name already_exists, a SPECIAL-USE role the account already has `cannot`;
 * - delete: INBOX and a mailbox with inferiors are `cannot`; the messages and their body text go,
 *   the blobs stay for the collector; the name's subscription stays (RFC 9051 §6.3.9);
 * - rename: inferiors move along, the mailbox keeps id, role and UIDVALIDITY (RFC 9051 allows it,
 *   and it spares clients a resync), its subscriptions follow it; renaming INBOX creates the
 *   target and moves every INBOX message into it with new UIDs, leaving INBOX empty (with a
 *   tombstone per UID); renaming below itself is `cannot`, onto any existing name (itself
 *   included) already_exists;
 * - every new mailbox gets a UIDVALIDITY above any the account handed out before (see
 *   `accounts.last_uidvalidity`), so a re-created name never reuses one.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Mailbox, SpecialUse } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, runBatch, sqlLength, type Db, type Query } from "./db.ts";
import { moveStatements } from "./copy.ts";
import {
  assertAccount,
  canonicalName,
  DELIMITER,
  mailboxByName,
  mailboxIdByName,
  parentNames,
  toMailbox,
} from "./mailboxes.ts";
import { accounts, expunged, mailboxes, messages } from "./schema.ts";
import { renameSubscriptionStatements, subscribeStatement } from "./subscriptions.ts";

export async function createMailbox(
  db: Db,
  accountId: number,
  req: { name: string; specialUse?: Exclude<SpecialUse, "inbox"> | undefined },
  now = Date.now(),
): Promise<Mailbox> {
  const name = canonicalName(req.name);
  const parents = parentNames(name);
  const [account, existing, withRole] = await db.batch([
    db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)),
    existingNames(db, accountId, [...parents, name]),
    db
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), req.specialUse ? eq(mailboxes.role, req.specialUse) : sql`0`)),
  ]);
  if (account.length === 0) throw apiError("not_found", "No such account");
  const present = new Set(existing.map((r) => r.name));
  if (present.has(name)) throw apiError("already_exists");
  if (req.specialUse && withRole.length > 0) throw apiError("cannot", `The account already has a ${req.specialUse} mailbox`);
  const missing = parents.filter((p) => !present.has(p));

  try {
    const results = await db.batch([
      nextUidvalidity(db, accountId, now),
      ...missing.map((p) => newMailbox(db, accountId, p, null, now).onConflictDoNothing()),
      newMailbox(db, accountId, name, req.specialUse ?? null, now),
      subscribeStatement(db, accountId, [...missing, name]),
      mailboxByName(db, accountId, name),
    ]);
    const created = (results.at(-1) as Awaited<ReturnType<typeof mailboxByName>>)[0];
    if (!created) throw apiError("internal");
    return toMailbox(created);
  } catch (err) {
    // Lost a race: a concurrent CREATE took the name, or the role, between the checks and the batch.
    const [again] = await db.batch([existingNames(db, accountId, [name])]);
    if (again.length > 0) throw apiError("already_exists");
    if (req.specialUse && /UNIQUE/i.test(String(err))) throw apiError("cannot", `The account already has a ${req.specialUse} mailbox`);
    throw err;
  }
}

export async function deleteMailbox(db: Db, accountId: number, rawName: string): Promise<void> {
  const name = canonicalName(rawName);
  if (name === "INBOX") throw apiError("cannot", "INBOX cannot be deleted");
  const [found, children] = await db.batch([mailboxByName(db, accountId, name), inferiors(db, accountId, name)]);
  const mailbox = found[0];
  if (!mailbox) throw apiError("no_such_mailbox");
  if (children.length > 0) throw apiError("cannot", "Mailbox has inferior mailboxes");
  // Re-checked inside the batch: a child created meanwhile keeps the whole delete from happening.
  const childless = sql`NOT EXISTS (SELECT 1 FROM ${mailboxes} WHERE ${isInferior(accountId, name)})`;
  const [, , gone] = await runBatch(db, [
    sql`DELETE FROM ${messages} WHERE mailbox_id = ${mailbox.id} AND account_id = ${accountId} AND ${childless}`,
    sql`DELETE FROM ${expunged} WHERE mailbox_id = ${mailbox.id} AND ${childless}`,
    sql`DELETE FROM ${mailboxes} WHERE id = ${mailbox.id} AND account_id = ${accountId} AND ${childless} RETURNING id`,
  ]);
  if (gone!.results.length === 0) {
    const [again] = await db.batch([mailboxByName(db, accountId, name)]);
    if (again.length === 0) throw apiError("no_such_mailbox");
    throw apiError("cannot", "Mailbox has inferior mailboxes");
  }
}

export async function renameMailbox(db: Db, accountId: number, rawFrom: string, rawTo: string, now = Date.now()): Promise<void> {
  const from = canonicalName(rawFrom);
  const to = canonicalName(rawTo);
  const parents = parentNames(to);
  if (to.startsWith(from + DELIMITER)) throw apiError("cannot", "Cannot rename a mailbox below itself");
  const [found, existing, inboxUids] = await db.batch([
    mailboxByName(db, accountId, from),
    existingNames(db, accountId, [...parents, to]),
    db
      .select({ uid: messages.uid })
      .from(messages)
      // Only RENAME INBOX moves messages, so only then are its UIDs worth reading.
      .where(and(eq(messages.accountId, accountId), sql`${messages.mailboxId} = ${mailboxIdByName(accountId, from)}`, from === "INBOX" ? undefined : sql`0`))
      .orderBy(messages.uid),
  ]);
  const mailbox = found[0];
  if (!mailbox) {
    await assertAccount(db, accountId);
    throw apiError("no_such_mailbox");
  }
  const present = new Set(existing.map((r) => r.name));
  if (present.has(to)) throw apiError("already_exists");
  const missing = parents.filter((p) => !present.has(p));

  const statements: Query[] = [];
  if (from === "INBOX" || missing.length > 0) statements.push(nextUidvalidity(db, accountId, now));
  statements.push(...missing.map((p) => newMailbox(db, accountId, p, null, now).onConflictDoNothing()));
  if (from === "INBOX") {
    // RFC 9051 §6.3.6: INBOX itself stays (empty); its messages move to the new mailbox, its inferiors stay.
    statements.push(newMailbox(db, accountId, to, null, now), subscribeStatement(db, accountId, [...missing, to]));
    const uids = inboxUids.map((r) => r.uid);
    if (uids.length > 0) statements.push(...moveStatements(db, accountId, mailbox.id, mailboxIdByName(accountId, to), uids));
  } else {
    if (missing.length > 0) statements.push(subscribeStatement(db, accountId, missing));
    statements.push(
      sql`UPDATE ${mailboxes} SET name = ${to} || substr(name, ${sqlLength(from) + 1})
        WHERE account_id = ${accountId} AND (name = ${from} OR ${isInferior(accountId, from)})`,
      ...renameSubscriptionStatements(db, accountId, from, to),
    );
  }
  try {
    await runBatch(db, statements);
  } catch (err) {
    // Lost a race for the target name (or one of its inferiors' new names): the unique index decided.
    if (/UNIQUE/i.test(String(err))) throw apiError("already_exists");
    throw err;
  }
}

/** Which of these names the account has (for existence checks before a batch). */
function existingNames(db: Db, accountId: number, names: readonly string[]) {
  return db
    .select({ name: mailboxes.name })
    .from(mailboxes)
    .where(and(eq(mailboxes.accountId, accountId), sql`${mailboxes.name} IN (SELECT value FROM json_each(${jsonList(names)}))`));
}

/** SQL: the row of `mailboxes` in scope is strictly below `name` in the account. */
function isInferior(accountId: number, name: string) {
  return sql`(${mailboxes.accountId} = ${accountId} AND substr(${mailboxes.name}, 1, ${sqlLength(name) + 1}) = ${name + DELIMITER})`;
}

function inferiors(db: Db, accountId: number, name: string) {
  return db.select({ id: mailboxes.id }).from(mailboxes).where(isInferior(accountId, name)).limit(1);
}

/** Advances the account's UIDVALIDITY counter; the mailboxes created after it in the batch take it. */
function nextUidvalidity(db: Db, accountId: number, now: number) {
  return db
    .update(accounts)
    .set({ lastUidvalidity: sql`max(${accounts.lastUidvalidity} + 1, ${Math.floor(now / 1000)})` })
    .where(eq(accounts.id, accountId));
}

function newMailbox(db: Db, accountId: number, name: string, role: SpecialUse | null, now: number) {
  return db.insert(mailboxes).values({
    accountId,
    name,
    role,
    uidvalidity: sql`(SELECT ${accounts.lastUidvalidity} FROM ${accounts} WHERE ${accounts.id} = ${accountId})`,
    createdAt: now,
  });
}
