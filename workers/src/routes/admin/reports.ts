/**
 * Admin: summaries of the aggregate reports received about our domains (contract/reports.ts).
 *   GET /admin/v1/reports/tls?domain=&since=&until=    → TlsReportSummary
 *   GET /admin/v1/reports/dmarc?domain=&since=&until=  → DmarcReportSummary
 *
 * Callers may rely on: since/until are ms since the epoch (decimal digits) and select reports
 * whose range starts in [since, until); left out, until is now and since 30 days before until;
 * a malformed value or since after until is 400 bad_request naming the parameter; `domain`
 * left out means every domain, a domain we do not serve is 404 not_found.
 */
import { Hono, type Context } from "hono";
import type { DmarcReportSummary, TlsReportSummary } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError } from "../../errors.ts";
import { findDomain } from "../../store/domains.ts";
import { dmarcReportSummary, tlsReportSummary, type SummaryRange } from "../../store/reports.ts";

const DEFAULT_RANGE_MS = 30 * 24 * 60 * 60 * 1000;

export const reportRoutes = new Hono<AppEnv>()
  .get("/tls", async (c) => c.json((await tlsReportSummary(c.var.db, await summaryRange(c))) satisfies TlsReportSummary))
  .get("/dmarc", async (c) => c.json((await dmarcReportSummary(c.var.db, await summaryRange(c))) satisfies DmarcReportSummary));

async function summaryRange(c: Context<AppEnv>): Promise<SummaryRange> {
  const until = time(c.req.query("until"), "until") ?? Date.now();
  const since = time(c.req.query("since"), "since") ?? until - DEFAULT_RANGE_MS;
  if (since > until) throw apiError("bad_request", "Invalid query: since is after until");
  const name = c.req.query("domain");
  if (name === undefined || name === "") return { domain: null, since, until };
  const domain = await findDomain(c.var.db, name.trim().replace(/\.$/, ""));
  if (!domain) throw apiError("not_found", "Domain is not served here");
  return { domain: { id: domain.id, name: domain.name }, since, until };
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(value)) throw apiError("bad_request", `Invalid query: ${name} must be ms since the epoch`);
  return Number(value);
}
