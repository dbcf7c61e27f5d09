/**
 * `POST /relay/v1/deliveries`: store one received message for its recipients (DeliveryRequest →
 * DeliveryResult). The relay answers `250` to DATA only after this returned 2xx, and this returns
 * 2xx only after store/ingest.ts committed: accepted means stored (DESIGN.md §2.1).
 *
 * Callers may rely on: replaying an idempotency key returns the first result with
 * `duplicate: true`; errors: blob_missing (409, temporary: upload again, then retry),
 * unknown_recipient (422, permanent), over_quota (422, temporary: 452 4.2.2 — one recipient's
 * account being full rejects the whole delivery, nothing is stored), unavailable/internal (temporary).
 */
import { Hono } from "hono";
import { DeliveryRequest, type DeliveryResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { ingestMessage } from "../../store/ingest.ts";
import { tripFault } from "../admin/faults.ts";

export const deliveryRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const req = await parseBody(c, DeliveryRequest);
  const result = await ingestMessage(
    c.var.db,
    c.env.MAIL,
    {
      idempotencyKey: req.idempotencyKey,
      mailFrom: req.envelope.mailFrom,
      targets: req.envelope.recipients.map((address) => ({ address })),
      messages: [{ blob: req.blob, index: req.index, search: req.search }],
    },
    { beforeCommit: () => tripFault(c.env, "deliveries.afterBlobCheck") },
  );
  return c.json(result satisfies DeliveryResult);
});
