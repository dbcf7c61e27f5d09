/**
 * `POST /tls-reports` (public, any host): the `https:` rua of `_smtp._tls` (RFC 8460 §5.2), where
 * senders post their TLS-RPT aggregate reports about our domains.
 *
 * Callers may rely on (contract/reports.ts): the body is read with a cap of
 * REPORT_LIMITS.compressedBytes whatever Content-Length says (413 too_large past it, also when
 * the gzip inflates past REPORT_LIMITS.inflatedBytes); `Content-Type: application/tlsrpt+gzip`
 * must be gzip and `application/tlsrpt+json` plain JSON, any other type is 400; the report must
 * match RFC 8460 §4 and every policy-domain in it must be ours (400 bad_request with the reason
 * otherwise); 201 `{ organization, reportId, duplicate: false }` when stored, 200 with
 * `duplicate: true` when the same organization and report-id is already stored (by HTTPS or by
 * mail). All of the report is stored in one batch or nothing is (store/reports.ts).
 */
import { Hono } from "hono";
import { REPORT_LIMITS } from "../../../common/contract.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { readCapped } from "../http/read-capped.ts";
import { gunzip, packagingOf } from "../reports/inflate.ts";
import { parseTlsReport } from "../reports/tls-rpt.ts";
import { storeTlsReport } from "../store/reports.ts";

const TYPES = "application/tlsrpt+gzip or application/tlsrpt+json";

export const tlsReportRoutes = new Hono<AppEnv>().post("/tls-reports", async (c) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/tlsrpt+gzip" && type !== "application/tlsrpt+json") {
    throw apiError("bad_request", `Content-Type must be ${TYPES} (RFC 8460 section 5.2)`);
  }
  const body = await readCapped(c.req.raw, REPORT_LIMITS.compressedBytes, `A TLS report may be at most ${REPORT_LIMITS.compressedBytes / (1024 * 1024)} MiB`);
  let json = body;
  if (type === "application/tlsrpt+gzip") {
    if (packagingOf(body) !== "gzip") throw apiError("bad_request", "The body is not gzip, as application/tlsrpt+gzip says");
    json = gunzip(body, REPORT_LIMITS.inflatedBytes);
  }
  const report = parseTlsReport(json);
  const { duplicate } = await storeTlsReport(c.var.db, report, Date.now());
  return c.json({ organization: report.organization, reportId: report.reportId, duplicate }, duplicate ? 200 : 201);
});
