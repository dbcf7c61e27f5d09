/**
 * Admin: `GET /admin/v1/tls-results?domain=<name>` → TlsResultList: the TLS session results relays
 * reported with their deliveries (store/tls-results.ts), newest first, at most 500. Without
 * `domain`, results for every policy domain.
 */
import { Hono } from "hono";
import type { TlsResultList } from "../../../../common/contract.ts";
import type { z } from "zod";
import type { AppEnv } from "../../env.ts";
import { listTlsResults } from "../../store/tls-results.ts";

export const tlsResultRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const domain = c.req.query("domain") || undefined;
  return c.json({ results: await listTlsResults(c.var.db, domain) } satisfies z.infer<typeof TlsResultList>);
});
