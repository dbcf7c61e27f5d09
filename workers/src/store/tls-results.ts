/**
 * TLS session results (RFC 8460 §4.3) that relays report with each delivery attempt: stored here
 * as the input of TLS-RPT aggregate reports, listed for the admin API.
 *
 * Callers may rely on: {@link tlsResultInserts} only builds statements, so the caller commits them
 * in its own batch under its own guard (store/outbound.ts: only while the job's lease holds);
 * policy domains and MX hosts are stored lower-case without a trailing dot, and the domain filter
 * of {@link listTlsResults} is normalized the same way; lists are newest first.
 */
import { desc, eq, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import type { StoredTlsResult, TlsResultType, TlsSessionResult } from "../../../common/contract.ts";
import { chunkByJsonSize, type Db, type Query } from "./db.ts";
import { tlsResults } from "./schema.ts";

/** A TLS session result as the route parsed it (defaults applied). */
export type TlsSessionOutcome = z.output<typeof TlsSessionResult>;

/** Most rows one admin list returns. */
export const TLS_RESULTS_LIST_LIMIT = 500;

/**
 * Statements inserting `results` for `jobId` at `now`, each row only when `guard` (an SQL
 * condition) holds when the statement runs. Several statements when the JSON would exceed one
 * D1 parameter (100 results of 50 policy strings can); none for an empty list.
 */
export function tlsResultInserts(jobId: string, results: readonly TlsSessionOutcome[], now: number, guard: SQL): Query[] {
  const rows = results.map((r) => ({
    policyType: r.policyType,
    policyDomain: hostName(r.policyDomain),
    policyStrings: r.policyStrings,
    mxHost: hostName(r.mxHost),
    receivingIp: r.receivingIp ?? null,
    result: r.result,
    detail: r.detail ?? null,
  }));
  return chunkByJsonSize(rows).map(
    ({ items }) => sql`INSERT INTO ${tlsResults} (job_id, policy_type, policy_domain, policy_strings, mx_host, receiving_ip, result, detail, created_at)
      SELECT ${jobId}, j.value ->> '$.policyType', j.value ->> '$.policyDomain', j.value -> '$.policyStrings', j.value ->> '$.mxHost',
        j.value ->> '$.receivingIp', j.value ->> '$.result', j.value ->> '$.detail', ${now}
      FROM json_each(${JSON.stringify(items)}) AS j
      WHERE ${guard}
      ORDER BY j.key`,
  );
}

export async function listTlsResults(db: Db, domain: string | undefined, limit = TLS_RESULTS_LIST_LIMIT): Promise<StoredTlsResult[]> {
  const rows = await db
    .select()
    .from(tlsResults)
    .where(domain === undefined ? undefined : eq(tlsResults.policyDomain, hostName(domain)))
    .orderBy(desc(tlsResults.createdAt), desc(tlsResults.id))
    .limit(limit);
  return rows.map((r) => ({
    policyType: r.policyType,
    policyDomain: r.policyDomain,
    policyStrings: r.policyStrings,
    mxHost: r.mxHost,
    receivingIp: r.receivingIp,
    result: r.result as TlsResultType,
    detail: r.detail,
    jobId: r.jobId,
    at: r.createdAt,
  }));
}

function hostName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}
