/**
 * `POST /relay/v1/accounts/:a/submissions` (SubmissionRequest → SubmissionResult): a message the
 * authenticated account submitted on 465/587. The relay answers `250` to DATA only after this
 * returned 2xx, and this returns 2xx only after store/submissions.ts committed the local copies
 * and the queue rows in one batch: accepted means stored (DESIGN.md §2.1).
 *
 * Callers may rely on: replaying an idempotency key returns the first result with
 * `duplicate: true`; errors: not_found (404, no such account), blob_missing (409, temporary:
 * upload again, then retry), unknown_recipient (422, 550 5.1.1: a user of our domains that does
 * not exist — nothing is stored), over_quota (422, temporary), unavailable/internal (temporary).
 * The MAIL FROM is not re-checked here: the relay asks `senders/check` at MAIL FROM.
 */
import { Hono } from "hono";
import { SubmissionRequest, type SubmissionResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { srsContext } from "../../auth/srs.ts";
import { idParam, parseBody } from "../../errors.ts";
import { submit } from "../../store/submissions.ts";
import { edgeNow } from "../admin/clock.ts";

export const submissionRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const accountId = idParam(c.req.param("a"));
  const req = await parseBody(c, SubmissionRequest);
  const now = edgeNow(c.env);
  const result = await submit(
    c.var.db,
    c.env.MAIL,
    accountId,
    {
      idempotencyKey: req.idempotencyKey,
      blob: req.blob,
      mailFrom: req.envelope.mailFrom,
      recipients: req.envelope.recipients,
      index: req.index,
      search: req.search,
    },
    now,
    srsContext(c.env, now),
  );
  return c.json(result satisfies SubmissionResult);
});
