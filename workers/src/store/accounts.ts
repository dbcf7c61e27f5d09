/**
 * Accounts: creation (with their default mailboxes) and password login. What an address delivers
 * to (plus-addressing, aliases, catch-all…) is store/addressing.ts.
 *
 * Callers may rely on: an account and its five default mailboxes (INBOX, Sent, Drafts, Junk,
 * Trash, with SPECIAL-USE roles, all subscribed) are created in ONE D1 batch, so no account ever
 * lacks an INBOX;
 * `authenticate` costs one PBKDF2 derivation whether or not the address exists; an address that
 * is an alias cannot become an account (409 conflict), as an alias cannot take an account's address.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Account, AuthResult, CreateAccountRequest } from "../../../common/contract.ts";
import type { z } from "zod";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { domainOf } from "./addressing.ts";
import { apiError } from "../errors.ts";
import type { Db } from "./db.ts";
import { findDomain } from "./domains.ts";
import { DEFAULT_MAILBOXES } from "./mailboxes.ts";
import { accounts, aliases, mailboxes, subscriptions } from "./schema.ts";

export async function createAccount(db: Db, req: z.output<typeof CreateAccountRequest>, now = Date.now()): Promise<Account> {
  const domainName = domainOf(req.address);
  const domain = await findDomain(db, domainName);
  // 422: the request is well-formed, but names a domain this server does not serve.
  if (!domain) throw apiError("not_found", "Domain is not served here", 422);
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
    throw err;
  }
}

export async function listAccounts(db: Db): Promise<Account[]> {
  const rows = await db
    .select({ id: accounts.id, address: accounts.address, domainId: accounts.domainId })
    .from(accounts)
    .orderBy(asc(accounts.address));
  return rows;
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
