/**
 * `/relay/v1/outbound`: the queue relays share (store/outbound.ts has the rules).
 *   POST lease                     LeaseRequest → LeaseResult: due jobs, each this relay's until leaseExpiresAt
 *   GET  :jobId/raw?lease=<token>  the message octets, streamed from R2, while that lease holds
 *   POST :jobId/result             DeliveryReport → DeliveryReportResult
 *
 * Callers may rely on: no two relays ever hold the same job at once; a raw read or a report with
 * a token the job no longer holds is 409 conflict (the relay must drop the job: someone else has
 * it, or it was already reported); an unknown job is 404; the edge owns the retry schedule and the
 * bounces (DSN to the sender), the relay only reports what the remote MX said.
 */
import { Hono } from "hono";
import { DeliveryReport, LeaseRequest, type DeliveryReportResult, type LeaseResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError, parseBody } from "../../errors.ts";
import { leasedBlob, leaseJobs, reportDelivery } from "../../store/outbound.ts";
import { retryPolicy } from "../../store/outbound-policy.ts";
import { edgeNow } from "../admin/clock.ts";

const JOB_ID = /^[0-9a-f-]{36}$/;

function jobParam(value: string | undefined): string {
  if (!value || !JOB_ID.test(value)) throw apiError("not_found", "No such job");
  return value;
}

export const outboundRoutes = new Hono<AppEnv>()
  .post("/lease", async (c) => {
    const req = await parseBody(c, LeaseRequest);
    const jobs = await leaseJobs(c.var.db, req, edgeNow(c.env));
    return c.json({ jobs } satisfies LeaseResult);
  })
  .get("/:jobId/raw", async (c) => {
    const jobId = jobParam(c.req.param("jobId"));
    const found = await leasedBlob(c.var.db, jobId, c.req.query("lease") ?? "", edgeNow(c.env));
    const object = await c.env.MAIL.get(found.blobKey);
    if (!object) {
      console.error("edge: outbound job without blob", { jobId, blobKey: found.blobKey });
      throw apiError("blob_missing");
    }
    return new Response(object.body, {
      headers: { "content-type": "message/rfc822", "content-length": String(object.size) },
    });
  })
  .post("/:jobId/result", async (c) => {
    const jobId = jobParam(c.req.param("jobId"));
    const req = await parseBody(c, DeliveryReport);
    const result = await reportDelivery(c.var.db, c.env.MAIL, retryPolicy(c.env), jobId, req, edgeNow(c.env));
    return c.json(result satisfies DeliveryReportResult);
  });
