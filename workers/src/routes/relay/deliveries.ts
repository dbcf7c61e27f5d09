/**
 * `POST /relay/v1/deliveries`: store one received message for its recipients (DeliveryRequest →
 * DeliveryResult). The relay answers `250` to DATA only after this returned 2xx, and this returns
 * 2xx only after store/inbound.ts committed the copies and any forwarding in one batch: accepted
 * means stored (DESIGN.md §2.1).
 *
 * Callers may rely on: recipients resolve exactly as `recipients/check` answered (aliases,
 * plus-addressing, postmaster, domain aliases, catch-all); `authentication` is stored with the
 * delivery (admin: GET /admin/v1/deliveries) and a `quarantine` verdict files the copies in Junk;
 * replaying an idempotency key returns the first result with `duplicate: true`; errors:
 * blob_missing (409, temporary: upload again, then retry), unknown_recipient (422, permanent),
 * over_quota (422, temporary: 452 4.2.2 — one recipient's account being full rejects the whole
 * delivery, nothing is stored), unavailable/internal (temporary). A message to a report address
 * (`<reportLocalPart>@<domain>`) is parsed as a DMARC or TLS-RPT report and stored with the
 * delivery, not filed; one without a readable report about a domain of ours is bad_request with
 * the reason (554 5.6.0), one past the report size limits too_large (552 5.3.4).
 */
import { Hono } from "hono";
import { DeliveryRequest, type DeliveryResult } from "../../../../common/contract.ts";
import { srsContext } from "../../auth/srs.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { receiveMessage } from "../../store/inbound.ts";
import { edgeNow } from "../admin/clock.ts";
import { tripFault } from "../admin/faults.ts";

export const deliveryRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const req = await parseBody(c, DeliveryRequest);
  // The queue's clock: forwarded jobs must be due by the time the lease loop looks.
  const now = edgeNow(c.env);
  const result = await receiveMessage(
    c.var.db,
    c.env.MAIL,
    {
      idempotencyKey: req.idempotencyKey,
      blob: req.blob,
      mailFrom: req.envelope.mailFrom,
      recipients: req.envelope.recipients,
      index: req.index,
      search: req.search,
      authentication: req.authentication,
    },
    { srs: srsContext(c.env, now), now, beforeCommit: () => tripFault(c.env, "deliveries.afterBlobCheck") },
  );
  return c.json(result satisfies DeliveryResult);
});
