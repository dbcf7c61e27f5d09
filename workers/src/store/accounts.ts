/**
 * Accounts: creation (with their default mailboxes), password login, and resolving a recipient
 * address to an account.
 *
 * Callers may rely on: an account and its five default mailboxes (INBOX, Sent, Drafts, Junk,
 * Trash, with SPECIAL-USE roles, all subscribed) are created in ONE D1 batch, so no account ever
 * lacks an INBOX;
 * `authenticate` costs one PBKDF2 derivation whether or not the address exists; plus-addressing
 * (`user+tag@d`) resolves to `user@d` unless an account literally named `user+tag@d` exists.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Account, AuthResult, CreateAccountRequest, RecipientCheckResult } from "../../../common/contract.ts";
import { InboundPolicy } from "../../../common/contract.ts";
import type { z } from "zod";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { apiError } from "../errors.ts";
import { jsonList, type Db } from "./db.ts";
import { findDomain } from "./domains.ts";
import { DEFAULT_MAILBOXES } from "./mailboxes.ts";
import { accounts, mailboxes, subscriptions } from "./schema.ts";

export async function createAccount(db: Db, req: z.output<typeof CreateAccountRequest>, now = Date.now()): Promise<Account> {
  const domainName = domainOf(req.address);
  const domain = await findDomain(db, domainName);
  // 422: the request is well-formed, but names a domain this server does not serve.
  if (!domain) throw apiError("not_found", "Domain is not served here", 422);
  // Checked before the (deliberately slow) hash; the unique index still decides a race.
  if (await findAccount(db, req.address)) throw apiError("conflict", "Account already exists");
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

export interface LocalRecipient {
  accountId: number;
  /** The account's own address (plus tag removed). */
  address: string;
  inboxId: number;
}

/**
 * Resolves many addresses in one query. The map has an entry for every address that names an
 * account; absent addresses are unknown (their domain may or may not be ours).
 */
export async function resolveRecipients(db: Db, addresses: readonly string[]): Promise<Map<string, LocalRecipient>> {
  const wanted = new Set<string>();
  for (const a of addresses) for (const c of candidates(a)) wanted.add(c);
  const rows = wanted.size
    ? await db
        .select({ accountId: accounts.id, address: accounts.address, inboxId: mailboxes.id })
        .from(accounts)
        .innerJoin(mailboxes, and(eq(mailboxes.accountId, accounts.id), eq(mailboxes.role, "inbox")))
        .where(sql`${accounts.address} IN (SELECT value FROM json_each(${jsonList([...wanted])}))`)
    : [];
  const byAddress = new Map(rows.map((r) => [r.address, r]));
  const out = new Map<string, LocalRecipient>();
  for (const a of addresses) {
    for (const c of candidates(a)) {
      const hit = byAddress.get(c);
      if (hit) {
        out.set(a, hit);
        break;
      }
    }
  }
  return out;
}

export async function checkRecipient(db: Db, address: string): Promise<RecipientCheckResult> {
  const hit = (await resolveRecipients(db, [address])).get(address);
  // Per-domain policies arrive with domain settings; until then every domain has the defaults.
  if (hit) return { result: "local", accountId: hit.accountId, address: hit.address, policy: InboundPolicy.parse({}) };
  return (await findDomain(db, domainOf(address))) ? { result: "unknown_user" } : { result: "foreign_domain" };
}

/** The account address an envelope recipient maps to, most specific first. */
export function candidates(address: string): string[] {
  const lower = address.trim().toLowerCase();
  const at = lower.lastIndexOf("@");
  const local = lower.slice(0, at);
  const plus = local.indexOf("+");
  return plus > 0 ? [lower, `${local.slice(0, plus)}${lower.slice(at)}`] : [lower];
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}
