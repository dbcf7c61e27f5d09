/**
 * Admin: accounts. POST creates one with its default mailboxes (201 Account including
 * `mailboxes`; 422 `not_found` when the address's domain is not ours; 409 conflict if it
 * exists); GET lists all as `{ accounts }` (without mailboxes), sorted by address.
 */
import { Hono } from "hono";
import { CreateAccountRequest, type Account } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { createAccount, listAccounts } from "../../store/accounts.ts";

export const accountRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateAccountRequest);
    return c.json((await createAccount(c.var.db, req)) satisfies Account, 201);
  })
  .get("/", async (c) => c.json({ accounts: (await listAccounts(c.var.db)) satisfies Account[] }));
