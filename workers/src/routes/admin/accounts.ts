/**
 * Admin: accounts. POST creates one with its default mailboxes (201 Account including
 * `mailboxes`; 422 `not_found` when the address's domain is not ours; 409 conflict if it
 * exists); GET lists all as `{ accounts }` (without mailboxes, with quotaBytes and usedBytes),
 * sorted by address. Under `/:account` — an id or a URL-encoded address, 404 not_found for
 * anything that names no account:
 *   PUT    /:account/password   SetPasswordRequest → 204 (relays' cached logins expire within 60 s: store/accounts.ts)
 *   PUT    /:account/quota      SetQuotaRequest → 204
 *   DELETE /:account            → 204: the account and all that is only its, in one batch (store/accounts.ts)
 */
import { Hono } from "hono";
import { CreateAccountRequest, SetPasswordRequest, SetQuotaRequest, type Account } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { createAccount, deleteAccount, listAccounts, resolveAccount, setPassword } from "../../store/accounts.ts";
import { setQuota } from "../../store/quota.ts";

export const accountRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateAccountRequest);
    return c.json((await createAccount(c.var.db, req)) satisfies Account, 201);
  })
  .get("/", async (c) => c.json({ accounts: (await listAccounts(c.var.db)) satisfies Account[] }))
  .put("/:account/password", async (c) => {
    // Resolved before the body is read: an unknown account is 404 whatever the body says.
    const account = await resolveAccount(c.var.db, c.req.param("account"));
    const req = await parseBody(c, SetPasswordRequest.strict());
    await setPassword(c.var.db, account.id, req.password);
    return c.body(null, 204);
  })
  .put("/:account/quota", async (c) => {
    const account = await resolveAccount(c.var.db, c.req.param("account"));
    const req = await parseBody(c, SetQuotaRequest);
    await setQuota(c.var.db, account.id, req.storageBytes);
    return c.body(null, 204);
  })
  .delete("/:account", async (c) => {
    const account = await resolveAccount(c.var.db, c.req.param("account"));
    await deleteAccount(c.var.db, account);
    return c.body(null, 204);
  });
