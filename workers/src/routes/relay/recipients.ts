/**
 * `POST /relay/v1/recipients/check`: the RCPT TO verdict, so unknown users get 550 5.1.1 at RCPT
 * time instead of a bounce after DATA. `local` (an account or an alias, after plus-addressing,
 * domain aliases, postmaster and catch-all: store/addressing.ts, the same resolution deliveries
 * use), `unknown_user` (our domain, nothing delivers there) or `foreign_domain` (not ours:
 * relaying denied on MX, outbound on submission). SRS addresses are dated on the same clock as
 * deliveries (edgeNow), so the check and the delivery agree on them too.
 */
import { Hono } from "hono";
import { RecipientCheckRequest, type RecipientCheckResult } from "../../../../common/contract.ts";
import { srsContext } from "../../auth/srs.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { checkRecipient } from "../../store/addressing.ts";
import { edgeNow } from "../admin/clock.ts";

export const recipientRoutes = new Hono<AppEnv>().post("/check", async (c) => {
  const req = await parseBody(c, RecipientCheckRequest);
  return c.json((await checkRecipient(c.var.db, req.address, srsContext(c.env, edgeNow(c.env)))) satisfies RecipientCheckResult);
});
