/** The outbound queue as the operator sees it (admin). Part of the admin API: see ../contract.ts. */
import { z } from "zod";
import { RecipientOutcome } from "./outbound.ts";

// ---- the outbound queue (admin) -------------------------------------------------------
//
//   GET    /admin/v1/queue?state=pending|all&domain=   → QueuedJobList (pending by default; newest first, ≤ 500)
//   GET    /admin/v1/queue/:jobId                      → QueuedJob (404 not_found)
//   POST   /admin/v1/queue/:jobId/retry                → QueuedJob: due now, like `postqueue -i`
//   DELETE /admin/v1/queue/:jobId                      → 204: pending recipients dropped without a DSN, like `postsuper -d`
//
// retry and delete answer 409 conflict while a relay holds the job's lease (it is being
// delivered right now) and for a job with nothing pending (retry only; delete of a finished job
// removes it from the list).

export const QueuedRecipient = z.object({
  recipient: z.string(),
  state: z.enum(["queued", "delivered", "deferred", "failed", "bounced"]),
  attempts: z.number().int(),
  lastResult: RecipientOutcome.nullable(),
});
export type QueuedRecipient = z.infer<typeof QueuedRecipient>;

export const QueuedJob = z.object({
  id: z.string(),
  domain: z.string(),
  mailFrom: z.string(),
  /** The submitting account's address; null for forwarded mail and DSNs. */
  account: z.string().nullable(),
  size: z.number().int(),
  attempts: z.number().int(),
  /** null: nothing pending. */
  nextAttemptAt: z.number().int().nullable(),
  /** Set while a relay holds the job. */
  leaseExpiresAt: z.number().int().nullable(),
  relayId: z.string().nullable(),
  createdAt: z.number().int(),
  recipients: z.array(QueuedRecipient),
});
export type QueuedJob = z.infer<typeof QueuedJob>;
export const QueuedJobList = z.object({ jobs: z.array(QueuedJob) });
export type QueuedJobList = z.infer<typeof QueuedJobList>;
