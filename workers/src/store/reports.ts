/**
 * Aggregate reports about our domains (schema: tlsReports, tlsReportPolicies, dmarcReports,
 * dmarcRecords): stored whole or not at all, and summarised for the admin API
 * (contract/reports.ts: TlsReportSummary, DmarcReportSummary).
 *
 * The rule this file keeps (DESIGN.md §2.1): nothing half-stored. A report's row and all its
 * policy or record rows are statements of ONE D1 batch; the child rows find their parent by the
 * unique (organization, report id), so they can travel in the same batch as the parent (and, for
 * a report mail, in the delivery's own batch: store/inbound.ts).
 *
 * Callers may rely on: {@link prepareReport} refuses a report about a domain we do not serve
 * (bad_request naming it) and answers `duplicate` with no statements when (organization, report
 * id) is already stored, so a report sent twice — to both rua URIs, or retried — is kept once;
 * should a concurrent copy commit between that check and the batch, the unique index fails the
 * batch (HTTPS: {@link storeTlsReport} then answers duplicate; mail: the delivery fails
 * temporarily and its retry finds the report stored). A TLS report's domain is the domain of its
 * first policy (every policy's domain must be ours). Summaries select reports whose start (TLS:
 * start-datetime, DMARC: begin) lies in [since, until); the TLS domain filter is on the policy
 * domain, the DMARC one on the report's domain; rows are ordered by volume, then by name.
 */
import { and, eq, sql } from "drizzle-orm";
import { REPORT_LIMITS, type DmarcReportSummary, type TlsReportSummary } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import type { DmarcReport } from "../reports/dmarc.ts";
import { findReport, type FoundReport } from "../reports/report-mail.ts";
import type { TlsReport } from "../reports/tls-rpt.ts";
import { blobKey } from "./blobs.ts";
import { chunkByJsonSize, jsonList, runBatch, type Db, type Query } from "./db.ts";
import { dmarcRecords, dmarcReports, domains, tlsReportPolicies, tlsReports, REPORT_CHANNELS } from "./schema.ts";

export interface ReportContext {
  via: (typeof REPORT_CHANNELS)[number];
  /** The report mail's delivery; null over HTTPS. */
  deliveryId: string | null;
  now: number;
}

export interface PreparedReport {
  duplicate: boolean;
  /** Empty for a duplicate; else the report's inserts, to commit in one batch. */
  statements: Query[];
}

export async function prepareReport(db: Db, found: FoundReport, ctx: ReportContext): Promise<PreparedReport> {
  if (found.kind === "tls") {
    const ids = await domainIds(db, found.report.policies.map((p) => p.policyDomain));
    if (await tlsReportExists(db, found.report)) return { duplicate: true, statements: [] };
    return { duplicate: false, statements: tlsInserts(db, found.report, ids.get(found.report.policies[0]!.policyDomain)!, ctx) };
  }
  const ids = await domainIds(db, [found.report.domain]);
  if (await dmarcReportExists(db, found.report)) return { duplicate: true, statements: [] };
  return { duplicate: false, statements: dmarcInserts(db, found.report, ids.get(found.report.domain)!, ctx) };
}

/** A TLS report received over HTTPS, stored in its own batch. */
export async function storeTlsReport(db: Db, report: TlsReport, now: number): Promise<{ duplicate: boolean }> {
  const prepared = await prepareReport(db, { kind: "tls", report }, { via: "https", deliveryId: null, now });
  if (prepared.duplicate) return { duplicate: true };
  try {
    await runBatch(db, prepared.statements);
  } catch (err) {
    // The same report committed concurrently (unique organization + report id): already stored.
    if (await tlsReportExists(db, report)) return { duplicate: true };
    throw err;
  }
  return { duplicate: false };
}

/** Our domain ids by name; throws bad_request naming the first domain we do not serve. */
async function domainIds(db: Db, names: readonly string[]): Promise<Map<string, number>> {
  const wanted = [...new Set(names)];
  const rows = await db
    .select({ id: domains.id, name: domains.name })
    .from(domains)
    .where(sql`${domains.name} IN (SELECT value FROM json_each(${jsonList(wanted)}))`);
  const ids = new Map(rows.map((r) => [r.name, r.id]));
  const foreign = wanted.find((n) => !ids.has(n));
  if (foreign !== undefined) throw apiError("bad_request", `The report is about ${foreign}, which is not a domain served here`);
  return ids;
}

async function tlsReportExists(db: Db, r: TlsReport): Promise<boolean> {
  const rows = await db
    .select({ id: tlsReports.id })
    .from(tlsReports)
    .where(and(eq(tlsReports.organization, r.organization), eq(tlsReports.reportId, r.reportId)))
    .limit(1);
  return rows.length > 0;
}

async function dmarcReportExists(db: Db, r: DmarcReport): Promise<boolean> {
  const rows = await db
    .select({ id: dmarcReports.id })
    .from(dmarcReports)
    .where(and(eq(dmarcReports.organization, r.organization), eq(dmarcReports.reportId, r.reportId)))
    .limit(1);
  return rows.length > 0;
}

function tlsInserts(db: Db, r: TlsReport, domainId: number, ctx: ReportContext): Query[] {
  const parent = db.insert(tlsReports).values({
    domainId,
    organization: r.organization,
    reportId: r.reportId,
    contact: r.contact,
    startAt: r.startAt,
    endAt: r.endAt,
    receivedVia: ctx.via,
    deliveryId: ctx.deliveryId,
    createdAt: ctx.now,
  });
  const children = chunkByJsonSize(r.policies).map(
    ({ items }) => sql`INSERT INTO ${tlsReportPolicies} (report_id, policy_type, policy_domain, policy_strings, mx_hosts, successes, failures, failure_details)
      SELECT p.id, j.value ->> '$.policyType', j.value ->> '$.policyDomain', j.value -> '$.policyStrings', j.value -> '$.mxHosts',
        j.value ->> '$.successes', j.value ->> '$.failures', j.value -> '$.failureDetails'
      FROM ${tlsReports} AS p, json_each(${JSON.stringify(items)}) AS j
      WHERE p.organization = ${r.organization} AND p.report_id = ${r.reportId}
      ORDER BY j.key`,
  );
  return [parent, ...children];
}

function dmarcInserts(db: Db, r: DmarcReport, domainId: number, ctx: ReportContext): Query[] {
  const parent = db.insert(dmarcReports).values({
    domainId,
    organization: r.organization,
    reportId: r.reportId,
    email: r.email,
    beginAt: r.beginAt,
    endAt: r.endAt,
    policy: r.policy,
    deliveryId: ctx.deliveryId,
    createdAt: ctx.now,
  });
  const children = chunkByJsonSize(r.records).map(
    ({ items }) => sql`INSERT INTO ${dmarcRecords} (report_id, source_ip, count, disposition, dkim, spf, header_from, auth_results)
      SELECT p.id, j.value ->> '$.sourceIp', j.value ->> '$.count', j.value ->> '$.disposition', j.value ->> '$.dkim',
        j.value ->> '$.spf', j.value ->> '$.headerFrom', j.value -> '$.authResults'
      FROM ${dmarcReports} AS p, json_each(${JSON.stringify(items)}) AS j
      WHERE p.organization = ${r.organization} AND p.report_id = ${r.reportId}
      ORDER BY j.key`,
  );
  return [parent, ...children];
}

// ---- summaries ------------------------------------------------------------------------

export interface SummaryRange {
  /** A domain of ours (checked by the caller), or null for all. */
  domain: { id: number; name: string } | null;
  since: number;
  until: number;
}

export async function tlsReportSummary(db: Db, range: SummaryRange): Promise<TlsReportSummary> {
  const where = sql`r.start_at >= ${range.since} AND r.start_at < ${range.until}
    ${range.domain ? sql`AND p.policy_domain = ${range.domain.name}` : sql``}`;
  const [totals, rows, failures] = await Promise.all([
    db.all<{ reports: number }>(sql`SELECT count(DISTINCT r.id) AS reports
      FROM ${tlsReportPolicies} AS p JOIN ${tlsReports} AS r ON r.id = p.report_id WHERE ${where}`),
    db.all<{ organization: string; policyType: string; policyDomain: string; reports: number; successes: number; failures: number }>(sql`
      SELECT r.organization AS organization, p.policy_type AS policyType, p.policy_domain AS policyDomain,
        count(DISTINCT r.id) AS reports, sum(p.successes) AS successes, sum(p.failures) AS failures
      FROM ${tlsReportPolicies} AS p JOIN ${tlsReports} AS r ON r.id = p.report_id
      WHERE ${where}
      GROUP BY r.organization, p.policy_type, p.policy_domain
      ORDER BY sum(p.successes) + sum(p.failures) DESC, r.organization, p.policy_domain, p.policy_type`),
    db.all<{ organization: string; policyType: string; policyDomain: string; resultType: string; sessions: number }>(sql`
      SELECT r.organization AS organization, p.policy_type AS policyType, p.policy_domain AS policyDomain,
        d.value ->> '$."result-type"' AS resultType, sum(d.value ->> '$."failed-session-count"') AS sessions
      FROM ${tlsReportPolicies} AS p JOIN ${tlsReports} AS r ON r.id = p.report_id, json_each(p.failure_details) AS d
      WHERE ${where}
      GROUP BY 1, 2, 3, 4`),
  ]);
  const key = (r: { organization: string; policyType: string; policyDomain: string }) => JSON.stringify([r.organization, r.policyType, r.policyDomain]);
  const types = new Map<string, Record<string, number>>();
  for (const f of failures) {
    const byType = types.get(key(f)) ?? {};
    byType[f.resultType] = (byType[f.resultType] ?? 0) + Number(f.sessions);
    types.set(key(f), byType);
  }
  return {
    domain: range.domain?.name ?? null,
    since: range.since,
    until: range.until,
    reports: Number(totals[0]?.reports ?? 0),
    rows: rows.map((r) => ({
      organization: r.organization,
      policyType: r.policyType,
      policyDomain: r.policyDomain,
      reports: Number(r.reports),
      successes: Number(r.successes),
      failures: Number(r.failures),
      failureTypes: types.get(key(r)) ?? {},
    })),
  };
}

export async function dmarcReportSummary(db: Db, range: SummaryRange): Promise<DmarcReportSummary> {
  const where = sql`r.begin_at >= ${range.since} AND r.begin_at < ${range.until}
    ${range.domain ? sql`AND r.domain_id = ${range.domain.id}` : sql``}`;
  const [totals, rows] = await Promise.all([
    db.all<{ reports: number }>(sql`SELECT count(*) AS reports FROM ${dmarcReports} AS r WHERE ${where}`),
    db.all<{ sourceIp: string; organization: string; messages: number; spfAligned: number; dkimAligned: number; none: number; quarantine: number; reject: number }>(sql`
      SELECT x.source_ip AS sourceIp, r.organization AS organization, sum(x.count) AS messages,
        sum(CASE WHEN x.spf = 'pass' THEN x.count ELSE 0 END) AS spfAligned,
        sum(CASE WHEN x.dkim = 'pass' THEN x.count ELSE 0 END) AS dkimAligned,
        sum(CASE WHEN x.disposition = 'none' THEN x.count ELSE 0 END) AS "none",
        sum(CASE WHEN x.disposition = 'quarantine' THEN x.count ELSE 0 END) AS quarantine,
        sum(CASE WHEN x.disposition = 'reject' THEN x.count ELSE 0 END) AS reject
      FROM ${dmarcRecords} AS x JOIN ${dmarcReports} AS r ON r.id = x.report_id
      WHERE ${where}
      GROUP BY x.source_ip, r.organization
      ORDER BY sum(x.count) DESC, x.source_ip, r.organization`),
  ]);
  return {
    domain: range.domain?.name ?? null,
    since: range.since,
    until: range.until,
    reports: Number(totals[0]?.reports ?? 0),
    rows: rows.map((r) => ({
      sourceIp: r.sourceIp,
      organization: r.organization,
      messages: Number(r.messages),
      spfAligned: Number(r.spfAligned),
      dkimAligned: Number(r.dkimAligned),
      dispositions: { none: Number(r.none), quarantine: Number(r.quarantine), reject: Number(r.reject) },
    })),
  };
}

/**
 * The report in a mail to a report address, read back from R2 (the blob the delivery names):
 * too_large past REPORT_LIMITS.messageBytes (checked before reading), blob_missing when the
 * blob is not there, else whatever reports/report-mail.ts finds or refuses.
 */
export async function readReportMail(bucket: R2Bucket, blob: { key: string; size: number }): Promise<FoundReport> {
  if (blob.size > REPORT_LIMITS.messageBytes) {
    throw apiError("too_large", `A report mail may be at most ${Math.floor(REPORT_LIMITS.messageBytes / (1024 * 1024))} MiB`);
  }
  const object = await bucket.get(blobKey(blob.key));
  if (!object || object.size !== blob.size) {
    await object?.body.cancel();
    throw apiError("blob_missing");
  }
  return findReport(new Uint8Array(await object.arrayBuffer()));
}
