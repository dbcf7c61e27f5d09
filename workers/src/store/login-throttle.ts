/**
 * Throttling of password guesses at the edge's one public login (HTTP Basic for the Apple
 * profile, routes/autoconfig.ts). Without it that endpoint would be a password oracle that skips
 * the relay's own login throttling; D1 holds the counts, because a Worker's isolates share no memory.
 *
 * Callers may rely on: `throttledFor` gives the seconds to wait (null: go ahead), to be asked
 * before any password is checked, once a key has LIMITS[kind] failures in the current window;
 * `recordFailure` counts one failure for every key (a window starts at the first failure and lasts
 * WINDOW_MS); `recordSuccess` forgets the address's failures, not the client's. Keys are
 * `address:<lower-case address>` and, when Cloudflare names the client (CF-Connecting-IP),
 * `ip:<address>`.
 */
import { inArray, sql } from "drizzle-orm";
import { runBatch, type Db } from "./db.ts";
import { loginFailures } from "./schema.ts";

export const WINDOW_MS = 15 * 60_000;
/** Like fail2ban's usual jail for a mail login: a few tries per address, more per client (NAT). */
export const LIMITS = { address: 5, ip: 20 } as const;

export interface LoginKeys {
  address: string;
  ip: string | null;
}

function keysOf(login: LoginKeys): { key: string; limit: number }[] {
  return [
    { key: `address:${login.address.trim().toLowerCase()}`, limit: LIMITS.address },
    ...(login.ip ? [{ key: `ip:${login.ip}`, limit: LIMITS.ip }] : []),
  ];
}

export async function throttledFor(db: Db, login: LoginKeys, now: number): Promise<number | null> {
  const keys = keysOf(login);
  const rows = await db
    .select()
    .from(loginFailures)
    .where(inArray(loginFailures.key, keys.map((k) => k.key)));
  const blocked = rows.filter((r) => r.windowStart > now - WINDOW_MS && r.failures >= keys.find((k) => k.key === r.key)!.limit);
  if (blocked.length === 0) return null;
  return Math.max(...blocked.map((r) => Math.ceil((r.windowStart + WINDOW_MS - now) / 1000)));
}

export async function recordFailure(db: Db, login: LoginKeys, now: number): Promise<void> {
  const expired = sql`${loginFailures.windowStart} <= ${now - WINDOW_MS}`;
  await runBatch(
    db,
    keysOf(login).map(({ key }) =>
      db
        .insert(loginFailures)
        .values({ key, failures: 1, windowStart: now })
        .onConflictDoUpdate({
          target: loginFailures.key,
          set: {
            failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${loginFailures.failures} + 1 END`,
            windowStart: sql`CASE WHEN ${expired} THEN ${now} ELSE ${loginFailures.windowStart} END`,
          },
        }),
    ),
  );
}

export async function recordSuccess(db: Db, login: LoginKeys): Promise<void> {
  await db.delete(loginFailures).where(sql`${loginFailures.key} = ${keysOf(login)[0]!.key}`);
}
