/**
 * `GET /relay/v1/accounts/:a/quota` → QuotaResult (GETQUOTAROOT, RFC 9208): usage in octets and
 * the limit (null: unlimited); 404 not_found for an unknown account. The limit is set through the
 * admin API (PUT /admin/v1/accounts/:id/quota); store/quota.ts says what counts.
 */
import { Hono } from "hono";
import type { QuotaResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam } from "../../errors.ts";
import { getQuota } from "../../store/quota.ts";

export const quotaRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const accountId = idParam(c.req.param("a"));
  return c.json((await getQuota(c.var.db, accountId)) satisfies QuotaResult);
});
