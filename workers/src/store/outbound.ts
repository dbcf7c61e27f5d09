/**
 * The outbound queue as relays see it: lease due jobs, read a leased job's message, report
 * per-recipient outcomes. Jobs and recipients are written by store/submissions.ts; the retry
 * schedule lives in store/outbound-policy.ts; bounces are built by store/dsn.ts and stored
 * through THE ingest path.
 *
 * Callers may rely on:
 * - Leasing is one UPDATE … RETURNING, a single atomic statement: two relays leasing at once never
 *   get the same job. A job is due when `next_attempt_at <= now` and its lease is absent or
 *   expired; each lease gets a fresh random token and increments the job's attempt number.
 *   Only the job's still-pending recipients (queued or deferred) are listed.
 * - The raw message is served only for the job's current, unexpired token (409 conflict otherwise).
 * - A report must carry the token the job holds now (409 conflict otherwise: stale — another
 *   relay leased it since — or foreign). A token whose lease ran out is still accepted while no
 *   other relay has taken the job. Recipients not in the job are 400 bad_request; recipients
 *   already final are ignored; pending recipients the report leaves out count as deferred.
 * - Deferred recipients are offered again after the backoff, never later than the submission's
 *   expiry; a report at or after the expiry bounces them. Failed and expired recipients get ONE
 *   DSN per report in the submitting account's INBOX — committed in the same D1 batch as the
 *   recipient states and the lease release — unless the reverse-path is "" (never bounce a
 *   bounce); `bounced` lists them either way. A DSN the account's quota cannot hold is dropped
 *   (logged) rather than blocking the queue. Mail we forwarded (no submitting account) bounces to the
 *   reverse-path of the delivery it forwards: into that address's mailboxes if it is ours, else
 *   queued to it with the null reverse-path, in the same batch and under the same lease guard.
 * - The report's TLS session results (store/tls-results.ts) are stored in that same batch, under
 *   the same lease guard: a report refused as stale stores none of them.
 */
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { DeliveryReportResult, OutboundJob, RecipientOutcome } from "../../../common/contract.ts";
import { indexMessage } from "../../../common/mime/index.ts";
import { computeSearchFields } from "../../../common/mime/search-fields.ts";
import { ApiException, apiError } from "../errors.ts";
import { AddressBook, domainOf } from "./addressing.ts";
import { blobKey, putBlob } from "./blobs.ts";
import { jsonList, runBatch, type Db, type Query } from "./db.ts";
import { buildDsn, oneLine, smtpDiagnostic, type BouncedRecipient } from "./dsn.ts";
import { ingestMessage } from "./ingest.ts";
import { backoffMs, type RetryPolicy } from "./outbound-policy.ts";
import { accounts, deliveries, outboundJobs, outboundRecipients, outboundSubmissions } from "./schema.ts";
import { queueInserts } from "./submissions.ts";
import { tlsResultInserts, type TlsSessionOutcome } from "./tls-results.ts";

const PENDING = ["queued", "deferred"] as const;

export interface LeaseInput {
  relayId: string;
  max: number;
  leaseSeconds: number;
}

export async function leaseJobs(db: Db, input: LeaseInput, now: number): Promise<OutboundJob[]> {
  const expires = now + input.leaseSeconds * 1000;
  const [leased] = await runBatch<{ id: string; submission_id: string; domain: string; lease_token: string; attempts: number }>(db, [
    sql`UPDATE ${outboundJobs}
      SET lease_token = lower(hex(randomblob(16))), lease_expires_at = ${expires}, relay_id = ${input.relayId}, attempts = attempts + 1
      WHERE id IN (SELECT id FROM ${outboundJobs}
          WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ${now}
            AND (lease_expires_at IS NULL OR lease_expires_at <= ${now})
          ORDER BY next_attempt_at LIMIT ${input.max})
        AND next_attempt_at <= ${now} AND (lease_expires_at IS NULL OR lease_expires_at <= ${now})
      RETURNING id, submission_id, domain, lease_token, attempts`,
  ]);
  const jobs = leased!.results;
  if (jobs.length === 0) return [];

  const ids = jobs.map((j) => j.id);
  const pending = await db
    .select({ jobId: outboundRecipients.jobId, recipient: outboundRecipients.recipient })
    .from(outboundRecipients)
    .where(and(sql`${outboundRecipients.jobId} IN (SELECT value FROM json_each(${jsonList(ids)}))`, inArray(outboundRecipients.state, [...PENDING])))
    .orderBy(sql`rowid`);
  const submissions = await db
    .select({ id: outboundSubmissions.id, mailFrom: outboundSubmissions.mailFrom, size: outboundSubmissions.size, createdAt: outboundSubmissions.createdAt })
    .from(outboundSubmissions)
    .where(sql`${outboundSubmissions.id} IN (SELECT value FROM json_each(${jsonList([...new Set(jobs.map((j) => j.submission_id))])}))`);
  const bySubmission = new Map(submissions.map((s) => [s.id, s]));

  const out: OutboundJob[] = [];
  const empty: string[] = [];
  for (const job of jobs) {
    const recipients = pending.filter((p) => p.jobId === job.id).map((p) => p.recipient);
    const submission = bySubmission.get(job.submission_id);
    if (recipients.length === 0 || !submission) {
      empty.push(job.id);
      continue;
    }
    out.push({
      id: job.id,
      leaseToken: job.lease_token,
      leaseExpiresAt: expires,
      domain: job.domain,
      mailFrom: submission.mailFrom,
      recipients,
      size: submission.size,
      attempt: job.attempts,
      submittedAt: submission.createdAt,
    });
  }
  if (empty.length > 0) {
    // Nothing left to deliver (should not happen: a report clears next_attempt_at): retire them.
    console.error("edge: outbound jobs due without pending recipients", empty);
    await db
      .update(outboundJobs)
      .set({ nextAttemptAt: null, leaseToken: null, leaseExpiresAt: null })
      .where(sql`${outboundJobs.id} IN (SELECT value FROM json_each(${jsonList(empty)}))`);
  }
  return out;
}

/** The blob of a job whose lease `token` holds at `now`; 404 for an unknown job, 409 for any other token. */
export async function leasedBlob(db: Db, jobId: string, token: string, now: number): Promise<{ blobKey: string; size: number }> {
  const rows = await db
    .select({ leaseToken: outboundJobs.leaseToken, leaseExpiresAt: outboundJobs.leaseExpiresAt, blobKey: outboundSubmissions.blobKey, size: outboundSubmissions.size })
    .from(outboundJobs)
    .innerJoin(outboundSubmissions, eq(outboundSubmissions.id, outboundJobs.submissionId))
    .where(eq(outboundJobs.id, jobId))
    .limit(1);
  const job = rows[0];
  if (!job) throw apiError("not_found", "No such job");
  if (!token || job.leaseToken !== token || (job.leaseExpiresAt ?? 0) <= now) throw apiError("conflict", "Lease not held");
  return { blobKey: job.blobKey, size: job.size };
}

export interface ReportInput {
  leaseToken: string;
  results: readonly RecipientOutcome[];
  /** TLS sessions of this attempt, stored for TLS-RPT with the rest of the report. */
  tls?: readonly TlsSessionOutcome[];
}

interface RecipientUpdate {
  recipient: string;
  state: "delivered" | "deferred" | "failed" | "bounced";
  next: number | null;
  /** Counted as an attempt (it was in the report). */
  tried: boolean;
  result: RecipientOutcome | null;
}

export async function reportDelivery(
  db: Db,
  bucket: R2Bucket,
  policy: RetryPolicy,
  jobId: string,
  report: ReportInput,
  now: number,
): Promise<DeliveryReportResult> {
  const rows = await db
    .select({
      leaseToken: outboundJobs.leaseToken,
      attempts: outboundJobs.attempts,
      submissionId: outboundSubmissions.id,
      accountId: outboundSubmissions.accountId,
      deliveryId: outboundSubmissions.deliveryId,
      blobKey: outboundSubmissions.blobKey,
      headerSize: outboundSubmissions.headerSize,
      mailFrom: outboundSubmissions.mailFrom,
      createdAt: outboundSubmissions.createdAt,
    })
    .from(outboundJobs)
    .innerJoin(outboundSubmissions, eq(outboundSubmissions.id, outboundJobs.submissionId))
    .where(eq(outboundJobs.id, jobId))
    .limit(1);
  const job = rows[0];
  if (!job) throw apiError("not_found", "No such job");
  if (job.leaseToken === null || job.leaseToken !== report.leaseToken) throw apiError("conflict", "Lease not held");

  const all = await db
    .select({ recipient: outboundRecipients.recipient, state: outboundRecipients.state, lastResult: outboundRecipients.lastResult })
    .from(outboundRecipients)
    .where(eq(outboundRecipients.jobId, jobId))
    .orderBy(sql`rowid`);
  const known = new Map(all.map((r) => [r.recipient, r]));
  const reported = new Map<string, RecipientOutcome>();
  for (const r of report.results) {
    const address = r.recipient.trim().toLowerCase();
    if (!known.has(address)) throw apiError("bad_request", "Recipient is not part of this job");
    reported.set(address, r);
  }

  const expiresAt = job.createdAt + policy.lifetimeMs;
  const retryAt = Math.min(now + backoffMs(policy, Math.max(job.attempts, 1)), expiresAt);
  const updates: RecipientUpdate[] = [];
  const bounces: BouncedRecipient[] = [];
  let anyDeferred = false;
  for (const r of all) {
    if (!(PENDING as readonly string[]).includes(r.state)) continue;
    const outcome = reported.get(r.recipient);
    const kind = outcome?.outcome ?? "deferred";
    const tried = outcome !== undefined;
    if (kind === "delivered") {
      updates.push({ recipient: r.recipient, state: "delivered", next: null, tried, result: outcome ?? null });
    } else if (kind === "failed") {
      updates.push({ recipient: r.recipient, state: "failed", next: null, tried, result: outcome ?? null });
      bounces.push(bounceFor(r.recipient, outcome!, "failed", now));
    } else if (now >= expiresAt) {
      const last = outcome ?? (r.lastResult as RecipientOutcome | null) ?? undefined;
      updates.push({ recipient: r.recipient, state: "bounced", next: null, tried, result: outcome ?? null });
      bounces.push(bounceFor(r.recipient, last, "expired", now));
    } else {
      anyDeferred = true;
      updates.push({ recipient: r.recipient, state: "deferred", next: retryAt, tried, result: outcome ?? null });
    }
  }
  const next = anyDeferred ? retryAt : null;

  // Every statement is guarded by the lease token, and the release comes last: of two reports
  // racing with one token, only the first changes anything.
  const holds = sql`EXISTS (SELECT 1 FROM ${outboundJobs} WHERE id = ${jobId} AND lease_token = ${report.leaseToken})`;
  const statements: Query[] = [
    sql`UPDATE ${outboundRecipients} AS r
      SET state = j.value ->> '$.state', next_attempt_at = j.value ->> '$.next',
        attempts = r.attempts + (j.value ->> '$.tried'),
        last_result = coalesce(j.value -> '$.result', r.last_result), updated_at = ${now}
      FROM json_each(${JSON.stringify(updates.map((u) => ({ ...u, tried: u.tried ? 1 : 0 })))}) AS j
      WHERE r.job_id = ${jobId} AND r.recipient = j.value ->> '$.recipient' AND r.state IN ('queued', 'deferred') AND ${holds}`,
    ...tlsResultInserts(jobId, report.tls ?? [], now, holds),
    sql`UPDATE ${outboundJobs} SET lease_token = NULL, lease_expires_at = NULL, next_attempt_at = ${next}
      WHERE id = ${jobId} AND lease_token = ${report.leaseToken}`,
  ];

  const bounced = bounces.map((b) => b.recipient);
  if (bounces.length > 0 && job.mailFrom !== "") {
    const stored = await storeDsn(db, bucket, job, jobId, report.leaseToken, holds, bounces, now, statements);
    if (stored) return { nextAttemptAt: next, bounced };
  }
  const results = await runBatch(db, statements);
  if (results[results.length - 1]!.meta.changes === 0) throw apiError("conflict", "Lease not held");
  return { nextAttemptAt: next, bounced };
}

function bounceFor(recipient: string, outcome: RecipientOutcome | undefined, why: "failed" | "expired", now: number): BouncedRecipient {
  const smtp = outcome?.smtp;
  const enhanced = smtp?.enhanced && /^[245]\.\d{1,3}\.\d{1,3}$/.test(smtp.enhanced) ? smtp.enhanced : null;
  let status: string;
  if (why === "expired") status = enhanced?.startsWith("4.") ? enhanced : "4.4.7";
  else status = enhanced?.startsWith("5.") ? enhanced : "5.0.0";
  const detail = outcome?.detail ? oneLine(outcome.detail) : undefined;
  const remote = outcome?.mx && /^[a-z0-9.-]+$/i.test(outcome.mx) && outcome.mx.includes(".") ? outcome.mx : undefined;
  const diagnostic = smtp ? smtpDiagnostic(smtp) : detail ? `X-edgemail; ${detail}` : undefined;
  const reason =
    why === "expired"
      ? `delivery gave up after the queue lifetime${smtp ? ` (last reply: ${oneLine(smtp.message, 200)})` : detail ? ` (${detail})` : ""}`
      : smtp
        ? `host ${remote ?? "?"} said: ${smtp.code} ${oneLine(smtp.message, 400)}`
        : (detail ?? "permanent failure");
  return { recipient, status, diagnostic, remoteMta: remote, reason, lastAttemptAt: now };
}

/**
 * Builds the DSN and commits it with `statements`: ingested into the submitting account's INBOX,
 * or for forwarded mail, to the original sender (ours: ingested; remote: queued). false: the DSN
 * could not be stored for a lasting reason (quota, no such address) and the caller commits the
 * statements alone.
 */
async function storeDsn(
  db: Db,
  bucket: R2Bucket,
  job: { accountId: number | null; deliveryId: string | null; blobKey: string; headerSize: number; mailFrom: string; createdAt: number },
  jobId: string,
  token: string,
  holds: SQL,
  bounces: readonly BouncedRecipient[],
  now: number,
  statements: readonly Query[],
): Promise<boolean> {
  let to: string;
  let dsnTo: string;
  let reportingMta: string;
  if (job.accountId !== null) {
    const account = (await db.select({ address: accounts.address }).from(accounts).where(eq(accounts.id, job.accountId)).limit(1))[0];
    if (!account) return false;
    to = account.address;
    dsnTo = job.mailFrom;
    reportingMta = domainOf(account.address);
  } else {
    const delivery = job.deliveryId
      ? (await db.select({ mailFrom: deliveries.mailFrom }).from(deliveries).where(eq(deliveries.id, job.deliveryId)).limit(1))[0]
      : undefined;
    if (!delivery || !delivery.mailFrom.includes("@")) {
      console.error("edge: DSN for forwarded mail dropped: no sender to return it to", { jobId });
      return false;
    }
    to = delivery.mailFrom.trim().toLowerCase();
    dsnTo = delivery.mailFrom;
    // The reverse-path was our SRS address: the bounce comes from the domain that forwarded.
    reportingMta = domainOf(job.mailFrom);
  }
  const original = await bucket.get(job.blobKey, { range: { offset: 0, length: Math.max(job.headerSize, 1) } });
  const originalHeader = original ? new Uint8Array(await original.arrayBuffer()) : new Uint8Array(0);
  const raw = buildDsn({ reportingMta, to: dsnTo, arrivalDate: job.createdAt, now, recipients: bounces, originalHeader, id: crypto.randomUUID() });
  const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", raw))].map((b) => b.toString(16).padStart(2, "0")).join("");
  await putBlob(bucket, sha, raw, raw.byteLength);
  const index = indexMessage(raw);
  // One DSN per report: the lease token names the report.
  const idempotencyKey = `dsn:${jobId}:${token}`;

  if (job.accountId === null) {
    const resolved = await new AddressBook(db).resolve(to);
    if (resolved.result === "unknown_user") {
      console.error("edge: DSN for forwarded mail dropped: its sender's address of ours is gone", { jobId });
      return false;
    }
    if (resolved.result === "foreign_domain") {
      const queued = queueInserts(
        db,
        {
          submissionId: crypto.randomUUID(),
          accountId: null,
          deliveryId: null,
          idempotencyKey,
          blob: { key: sha, size: raw.byteLength },
          headerSize: index.headerSize,
          mailFrom: "",
          localRecipients: [],
          recipients: [to],
          now,
        },
        holds,
      );
      // The lease release stays last: its change count tells a stale token.
      const results = await runBatch(db, [...statements.slice(0, -1), ...queued, statements[statements.length - 1]!]);
      if (results[results.length - 1]!.meta.changes === 0) throw apiError("conflict", "Lease not held");
      return true;
    }
  }
  try {
    await ingestMessage(
      db,
      bucket,
      {
        idempotencyKey,
        mailFrom: "",
        targets: [{ address: to }],
        messages: [{ blob: { key: sha, size: raw.byteLength }, index, search: computeSearchFields(raw, index) }],
      },
      { now, alsoCommit: statements },
    );
    return true;
  } catch (err) {
    if (err instanceof ApiException && (err.code === "over_quota" || err.code === "unknown_recipient")) {
      console.error("edge: DSN dropped", { jobId, blob: blobKey(sha), code: err.code });
      return false;
    }
    throw err;
  }
}
