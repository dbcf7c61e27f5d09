/**
 * Accounts: creation (with their default mailboxes), password login, and the operator's tools:
 * listing with usage, a new password, removal. What an address delivers to (plus-addressing,
 * aliases, catch-all…) is store/addressing.ts.
 *
 * Callers may rely on: an account and its five default mailboxes (INBOX, Sent, Drafts, Junk,
 * Trash, with SPECIAL-USE roles, all subscribed) are created in ONE D1 batch, so no account ever
 * lacks an INBOX;
 * `authenticate` costs one PBKDF2 derivation whether or not the address exists; an address that
 * is an alias cannot become an account (409 conflict), as an alias cannot take an account's address.
 * `resolveAccount` names an account by id or by address (404 not_found otherwise);
 * `deleteAccount` removes the account with its mailboxes, messages (their FTS rows go through the
 * trigger of migration 0002), subscriptions and outbound submissions (jobs and recipients, even
 * one a relay holds: its report then gets 404) in ONE batch, takes the address out of every
 * alias's targets (an alias left with none is deleted) and clears any catch-all naming it; the
 * blobs stay in R2 for orphan collection (store/blobs.ts).
 *
 * The edge keeps no login cache, but every relay does: its EdgeClient trusts a successful password
 * check for 60 s (relay/edge/client.ts, authCacheMs default 60_000, not configurable), so an old
 * password or a removed account may still log in at a relay for up to a minute after
 * `setPassword` or `deleteAccount` — no longer. A removed account's logins find nothing: its
 * rows are gone, and submissions and mailbox calls naming its id answer not_found.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Account, AuthResult, CreateAccountRequest } from "../../../common/contract.ts";
import type { z } from "zod";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { domainOf } from "./addressing.ts";
import { apiError } from "../errors.ts";
import { runBatch, type Db } from "./db.ts";
import { findDomain } from "./domains.ts";
import { DEFAULT_MAILBOXES } from "./mailboxes.ts";
import {
  accounts,
  aliases,
  domains,
  expunged,
  mailboxes,
  messages,
  outboundJobs,
  outboundRecipients,
  outboundSubmissions,
  subscriptions,
} from "./schema.ts";

export async function createAccount(db: Db, req: z.output<typeof CreateAccountRequest>, now = Date.now()): Promise<Account> {
  const domainName = domainOf(req.address);
  const domain = await findDomain(db, domainName);
  // 422: the request is well-formed, but names a domain this server does not serve.
  if (!domain) throw apiError("not_found", "Domain is not served here", 422);
  if (req.address === `${domain.reportLocalPart}@${domain.name}`) throw apiError("conflict", "This address takes the domain's DMARC and TLS reports");
  // Checked before the (deliberately slow) hash; the unique index still decides a race.
  if (await findAccount(db, req.address)) throw apiError("conflict", "Account already exists");
  if ((await db.select({ id: aliases.id }).from(aliases).where(eq(aliases.address, req.address)).limit(1)).length > 0) {
    throw apiError("conflict", "An alias has this address");
  }
  const passwordHash = await hashPassword(req.password);
  const uidvalidity = Math.floor(now / 1000);
  const accountId = sql<number>`(SELECT ${accounts.id} FROM ${accounts} WHERE ${accounts.address} = ${req.address})`;
  try {
    const [inserted] = await db.batch([
      db
        .insert(accounts)
        .values({ domainId: domain.id, address: req.address, passwordHash, lastUidvalidity: uidvalidity, createdAt: now })
        .returning(),
      ...DEFAULT_MAILBOXES.map((m) =>
        db.insert(mailboxes).values({ accountId, name: m.name, role: m.role, uidvalidity, createdAt: now }),
      ),
      db.insert(subscriptions).values(DEFAULT_MAILBOXES.map((m) => ({ accountId, name: m.name }))),
    ]);
    const account = inserted[0]!;
    return { id: account.id, address: account.address, domainId: account.domainId, mailboxes: DEFAULT_MAILBOXES.map((m) => ({ ...m })) };
  } catch (err) {
    if (await findAccount(db, req.address)) throw apiError("conflict", "Account already exists");
    // The domain was removed between the lookup and the insert (its foreign key refused the row).
    if (!(await findDomain(db, domainName))) throw apiError("not_found", "Domain is not served here", 422);
    throw err;
  }
}

/**
 * Every account with its limit and usage, by address. Usage is what store/quota.ts counts (the sum
 * of the sizes of all the account's messages, copies again), grouped in one pass over the covering
 * index messages_account_size: one query whatever the number of accounts.
 */
export async function listAccounts(db: Db): Promise<Account[]> {
  const usage = db
    .select({ accountId: messages.accountId, used: sql<number>`sum(${messages.size})`.as("used") })
    .from(messages)
    .groupBy(messages.accountId)
    .as("usage");
  const rows = await db
    .select({
      id: accounts.id,
      address: accounts.address,
      domainId: accounts.domainId,
      quotaBytes: accounts.quotaBytes,
      usedBytes: sql<number>`coalesce(${usage.used}, 0)`.mapWith(Number),
    })
    .from(accounts)
    .leftJoin(usage, eq(usage.accountId, accounts.id))
    .orderBy(asc(accounts.address));
  return rows;
}

/**
 * The account a path names: a decimal id, or an address (any case). Anything else, or no such
 * account, is 404 not_found.
 */
export async function resolveAccount(db: Db, ref: string): Promise<{ id: number; address: string }> {
  const where = /^[1-9][0-9]{0,15}$/.test(ref)
    ? eq(accounts.id, Number(ref))
    : ref.includes("@")
      ? eq(accounts.address, ref.trim().toLowerCase())
      : undefined;
  const row = where ? (await db.select({ id: accounts.id, address: accounts.address }).from(accounts).where(where).limit(1))[0] : undefined;
  if (!row) throw apiError("not_found", "No such account");
  return row;
}

/** Stores a new password hash; logins cached by relays expire by their TTL (see the header). */
export async function setPassword(db: Db, accountId: number, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  const updated = await db.update(accounts).set({ passwordHash }).where(eq(accounts.id, accountId)).returning({ id: accounts.id });
  if (updated.length === 0) throw apiError("not_found", "No such account");
}

/**
 * Removes the account and everything that is only its, in ONE batch (children first, so it holds
 * whether or not D1 enforces the schema's cascades); 404 when it is already gone.
 */
export async function deleteAccount(db: Db, account: { id: number; address: string }): Promise<void> {
  const id = account.id;
  const theirSubmissions = sql`(SELECT id FROM ${outboundSubmissions} WHERE account_id = ${id})`;
  const results = await runBatch(db, [
    sql`DELETE FROM ${outboundRecipients} WHERE submission_id IN ${theirSubmissions}`,
    sql`DELETE FROM ${outboundJobs} WHERE submission_id IN ${theirSubmissions}`,
    sql`DELETE FROM ${outboundSubmissions} WHERE account_id = ${id}`,
    // One statement per table; the trigger messages_fts_delete drops each message's text with it.
    sql`DELETE FROM ${messages} WHERE account_id = ${id}`,
    sql`DELETE FROM ${expunged} WHERE mailbox_id IN (SELECT id FROM ${mailboxes} WHERE account_id = ${id})`,
    sql`DELETE FROM ${mailboxes} WHERE account_id = ${id}`,
    sql`DELETE FROM ${subscriptions} WHERE account_id = ${id}`,
    sql`UPDATE ${domains} SET catch_all_account_id = NULL WHERE catch_all_account_id = ${id}`,
    // Targets are stored lower-case without duplicates (store/aliases.ts): drop the one equal to
    // the address, keeping the others in their order; then drop aliases left with nothing.
    sql`UPDATE ${aliases} SET targets = (
        SELECT json_group_array(t.value) FROM (SELECT value FROM json_each(${aliases}.targets) WHERE value <> ${account.address} ORDER BY key) AS t)
      WHERE EXISTS (SELECT 1 FROM json_each(${aliases}.targets) WHERE value = ${account.address})`,
    sql`DELETE FROM ${aliases} WHERE json_array_length(targets) = 0`,
    sql`DELETE FROM ${accounts} WHERE id = ${id}`,
  ]);
  if (results[results.length - 1]!.meta.changes === 0) throw apiError("not_found", "No such account");
}

export async function findAccount(db: Db, address: string) {
  const rows = await db.select().from(accounts).where(eq(accounts.address, address.trim().toLowerCase())).limit(1);
  return rows[0];
}

export async function accountExists(db: Db, accountId: number): Promise<boolean> {
  const rows = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).limit(1);
  return rows.length > 0;
}

/** null for a wrong password and for an unknown user alike; the caller answers both with auth_failed. */
export async function authenticate(db: Db, username: string, password: string): Promise<AuthResult | null> {
  const account = await findAccount(db, username);
  const ok = await verifyPassword(password, account?.passwordHash ?? null);
  return ok && account ? { accountId: account.id, address: account.address } : null;
}

/** Re-exported: callers that only need the domain of an address need not know about resolution. */
export { domainOf };
