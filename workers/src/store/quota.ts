/**
 * Storage quota (RFC 9208 STORAGE): an account's usage is the sum of RFC822.SIZE over all its
 * messages — copies count again, because a COPY is a new message to the client, even though
 * they share one blob; the limit is `accounts.quota_bytes`, null for unlimited.
 *
 * Callers may rely on: `assertQuota` throws `over_quota` when usage + the bytes about to be added
 * would exceed the limit (reaching it exactly is allowed); moves and expunges never need it.
 * The check reads usage before the writing batch, so concurrent writers into one account can
 * overshoot the limit by what they add at the same moment; a quota is a budget, not a lock.
 */
import { eq, sql, type SQL } from "drizzle-orm";
import type { QuotaResult } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, type Db } from "./db.ts";
import { accounts, messages } from "./schema.ts";

/** An account id, or SQL naming the account row being read. */
function usageOf(accountId: number | SQL) {
  return sql<number>`(SELECT coalesce(sum(m.size), 0) FROM ${messages} AS m WHERE m.account_id = ${accountId})`.mapWith(Number);
}

/**
 * The limit and usage of accounts, for a batch. Usage is summed only for accounts that have a
 * limit (the sum is the expensive part, and unlimited accounts never need it for a check).
 */
export function quotaQuery(db: Db, accountIds: readonly number[]) {
  return db
    .select({
      accountId: accounts.id,
      limit: accounts.quotaBytes,
      // Qualified by hand: drizzle leaves columns unqualified in one-table selects.
      usage: sql<number>`CASE WHEN "accounts"."quota_bytes" IS NULL THEN 0 ELSE ${usageOf(sql`"accounts"."id"`)} END`.mapWith(Number),
    })
    .from(accounts)
    .where(sql`${accounts.id} IN (SELECT value FROM json_each(${jsonList([...new Set(accountIds)])}))`);
}

/** Throws over_quota if adding `adding.get(account)` octets to any account would pass its limit. */
export function assertQuota(
  rows: readonly { accountId: number; limit: number | null; usage: number }[],
  adding: ReadonlyMap<number, number>,
): void {
  for (const r of rows) {
    const more = adding.get(r.accountId) ?? 0;
    if (r.limit !== null && more > 0 && r.usage + more > r.limit) throw apiError("over_quota");
  }
}

export async function getQuota(db: Db, accountId: number): Promise<QuotaResult> {
  const rows = await db
    .select({ limit: accounts.quotaBytes, usage: usageOf(accountId) })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  const row = rows[0];
  if (!row) throw apiError("not_found", "No such account");
  return { usage: row.usage, limit: row.limit };
}

export async function setQuota(db: Db, accountId: number, storageBytes: number | null): Promise<void> {
  const updated = await db.update(accounts).set({ quotaBytes: storageBytes }).where(eq(accounts.id, accountId)).returning({ id: accounts.id });
  if (updated.length === 0) throw apiError("not_found", "No such account");
}
