/**
 * `POST /relay/v1/recipients/check`: the RCPT TO verdict, so unknown users get 550 5.1.1 at RCPT
 * time instead of a bounce after DATA. `local` (with the account, plus-addressing resolved),
 * `unknown_user` (our domain, no such account) or `foreign_domain` (not ours: relaying denied
 * on MX, outbound on submission).
 */
import { Hono } from "hono";
import { RecipientCheckRequest, type RecipientCheckResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { checkRecipient } from "../../store/accounts.ts";

export const recipientRoutes = new Hono<AppEnv>().post("/check", async (c) => {
  const req = await parseBody(c, RecipientCheckRequest);
  return c.json((await checkRecipient(c.var.db, req.address)) satisfies RecipientCheckResult);
});
