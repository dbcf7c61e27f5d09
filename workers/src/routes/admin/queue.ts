/**
 * Admin: the outbound queue (contract common/contract/queue.ts; rules in store/queue-admin.ts).
 *   GET    /?state=pending|all&domain=   → QueuedJobList (pending by default; newest first, ≤ 500)
 *   GET    /:jobId                       → QueuedJob
 *   POST   /:jobId/retry                 → QueuedJob, due now
 *   DELETE /:jobId                       → 204, pending recipients dropped without a DSN
 *
 * Callers may rely on: "now" is the edge clock the outbound queue itself uses (clock.ts), so a
 * test that moved it sees leases and due times as relays do; a query parameter with a bad value,
 * or one this route does not know, is 400 bad_request with the reason; an id that is no job is
 * 404 not_found; retry and delete of a job a relay holds are 409 conflict, as is a retry of a job
 * with nothing pending.
 */
import { Hono } from "hono";
import { z } from "zod";
import { HOST_NAME, type QueuedJob, type QueuedJobList } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError } from "../../errors.ts";
import { deleteJob, listQueue, retryJob, showJob } from "../../store/queue-admin.ts";
import { edgeNow } from "./clock.ts";

/** Job ids are UUIDs (store/submissions.ts); the relay routes accept the same shape. */
const JOB_ID = /^[0-9a-f-]{36}$/;

const ListQuery = z
  .object({
    state: z.enum(["pending", "all"]).default("pending"),
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(HOST_NAME, "not a domain name")
      .optional(),
  })
  .strict();

function jobParam(value: string | undefined): string {
  if (!value || !JOB_ID.test(value)) throw apiError("not_found", "No such job");
  return value;
}

export const queueRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const parsed = ListQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
      throw apiError("bad_request", `Invalid query: ${reasons.slice(0, 5).join("; ")}`);
    }
    const jobs = await listQueue(c.var.db, parsed.data, edgeNow(c.env));
    return c.json({ jobs } satisfies QueuedJobList);
  })
  .get("/:jobId", async (c) => c.json((await showJob(c.var.db, jobParam(c.req.param("jobId")), edgeNow(c.env))) satisfies QueuedJob))
  .post("/:jobId/retry", async (c) =>
    c.json((await retryJob(c.var.db, jobParam(c.req.param("jobId")), edgeNow(c.env))) satisfies QueuedJob),
  )
  .delete("/:jobId", async (c) => {
    await deleteJob(c.var.db, jobParam(c.req.param("jobId")), edgeNow(c.env));
    return c.body(null, 204);
  });
