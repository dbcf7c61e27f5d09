/**
 * `POST /relay/v1/accounts/:a/senders/check` (SenderCheckRequest → SenderCheckResult): may the
 * authenticated account use this MAIL FROM? The relay asks at MAIL FROM on submission ports and
 * answers 553 5.7.1 when not (store/senders.ts decides).
 */
import { Hono } from "hono";
import { SenderCheckRequest, type SenderCheckResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam, parseBody } from "../../errors.ts";
import { senderAllowed } from "../../store/senders.ts";

export const senderRoutes = new Hono<AppEnv>().post("/check", async (c) => {
  const accountId = idParam(c.req.param("a"));
  const req = await parseBody(c, SenderCheckRequest);
  return c.json({ allowed: await senderAllowed(c.var.db, accountId, req.address) } satisfies SenderCheckResult);
});
