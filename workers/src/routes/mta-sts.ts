/**
 * `GET /.well-known/mta-sts.txt` (RFC 8461 §3.2), served without authentication on the host
 * `mta-sts.<domain>` of every domain that publishes a policy.
 *
 * Callers may rely on: any other host, or a domain without a policy, is 404 — a sender must not
 * mistake one domain's policy for another's.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { findDomain, renderMtaStsPolicy, toDomain } from "../store/domains.ts";

const PREFIX = "mta-sts.";

export const mtaStsRoutes = new Hono<AppEnv>().get("/.well-known/mta-sts.txt", async (c) => {
  const host = (c.req.header("host") ?? new URL(c.req.url).host).toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  if (!host.startsWith(PREFIX)) throw apiError("not_found");
  const row = await findDomain(c.var.db, host.slice(PREFIX.length));
  const policy = row ? toDomain(row).mtaSts : null;
  if (!policy) throw apiError("not_found");
  return c.text(renderMtaStsPolicy(policy), 200, {
    "content-type": "text/plain; charset=utf-8",
    // Senders cache the policy by max_age anyway; a short HTTP cache keeps edits visible.
    "cache-control": "max-age=300",
  });
});
