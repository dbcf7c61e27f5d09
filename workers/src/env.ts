/**
 * The Worker's bindings (wrangler.toml) and the Hono environment every route is typed with.
 *
 * Callers may rely on: `c.env` holds exactly these bindings; `c.var.db` is a drizzle handle on
 * `DB`, created once per request by the app's first middleware.
 */
import type { Db } from "./store/db.ts";

export interface Bindings {
  DB: D1Database;
  MAIL: R2Bucket;
  /** Bearer token of the admin API (`wrangler secret put ADMIN_TOKEN`). */
  ADMIN_TOKEN: string;
  /** Bearer token of the relay API (`wrangler secret put RELAY_KEY`). */
  RELAY_KEY: string;
  /** Key of the Sender Rewriting Scheme for forwarded mail (auth/srs.ts); unset: derived from RELAY_KEY. */
  SRS_SECRET?: string;
  /**
   * The Worker's public host name, which `mta-sts.`, `autoconfig.` and `autodiscover.` of every
   * domain point at (store/dns-records.ts); unset: the host the admin request came to.
   */
  EDGE_HOSTNAME?: string;
  /** "1" only in tests: enables POST /admin/v1/faults. Never set in wrangler.toml. */
  ALLOW_FAULT_INJECTION?: string;
  /** Outbound retry schedule overrides in seconds (store/outbound-policy.ts holds the defaults). */
  OUTBOUND_RETRY_FIRST_SECONDS?: string;
  OUTBOUND_RETRY_MAX_SECONDS?: string;
  OUTBOUND_LIFETIME_SECONDS?: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: { db: Db };
}
