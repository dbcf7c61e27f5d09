/**
 * Admin: accounts. POST creates one with its default mailboxes (201 Account including
 * `mailboxes`; 422 `not_found` when the address's domain is not ours; 409 conflict if it
 * exists); GET lists all as `{ accounts }` (without mailboxes), sorted by address;
 * `PUT /:id/quota` sets the storage limit (SetQuotaRequest, 204; 404 not_found).
 */
import { Hono } from "hono";
import { CreateAccountRequest, SetQuotaRequest, type Account } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam, parseBody } from "../../errors.ts";
import { createAccount, listAccounts } from "../../store/accounts.ts";
import { setQuota } from "../../store/quota.ts";

export const accountRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateAccountRequest);
    return c.json((await createAccount(c.var.db, req)) satisfies Account, 201);
  })
  .get("/", async (c) => c.json({ accounts: (await listAccounts(c.var.db)) satisfies Account[] }))
  .put("/:id/quota", async (c) => {
    const accountId = idParam(c.req.param("id"));
    const req = await parseBody(c, SetQuotaRequest);
    await setQuota(c.var.db, accountId, req.storageBytes);
    return c.body(null, 204);
  });
