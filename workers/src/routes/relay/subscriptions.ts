/**
 * `GET /relay/v1/accounts/:a/subscriptions` → SubscriptionList: the subscribed names, sorted,
 * including names with no mailbox (LSUB and LIST (SUBSCRIBED) show those as \NonExistent).
 * Subscribing goes through `POST mailboxes/subscribe` (routes/relay/mailboxes.ts).
 */
import { Hono } from "hono";
import type { SubscriptionList } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam } from "../../errors.ts";
import { listSubscriptions } from "../../store/subscriptions.ts";

export const subscriptionRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const accountId = idParam(c.req.param("a"));
  return c.json({ names: await listSubscriptions(c.var.db, accountId) } satisfies SubscriptionList);
});
