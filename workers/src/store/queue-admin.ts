/**
 * The outbound queue as the operator sees it: list, show, retry now (`postqueue -i`), delete
 * (`postsuper -d`). The tables and their meaning are store/submissions.ts and store/outbound.ts;
 * this file only reads them and moves due times, never the lease protocol's own columns.
 *
 * Callers may rely on:
 * - Pending means the job will be offered again (`next_attempt_at` set); "leased" means a relay
 *   holds an unexpired lease at `now` — the same test leaseJobs uses, so what is leased here is
 *   exactly what no other relay can lease.
 * - `listQueue` is newest first, at most {@link QUEUE_LIST_LIMIT} jobs, in two queries (jobs with
 *   their submission and account, then all their recipients); `leaseExpiresAt` is null unless
 *   the lease is live; `relayId` is the relay that leased the job last.
 * - `retryJob` makes the job and its pending recipients due at `now` (attempt count and the
 *   submission's expiry unchanged); `deleteJob` removes the job and its recipient rows — pending
 *   ones are dropped without a DSN — and leaves the submission row (the idempotency record of what
 *   was accepted; it also keeps the blob from orphan collection while other jobs need it).
 * - Both are one batch guarded by "not leased" (and for retry, "something pending"), so a relay
 *   leasing the job in between wins and the operator gets 409 conflict; an unknown job is 404.
 */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import type { QueuedJob, QueuedRecipient, RecipientOutcome } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { jsonList, runBatch, type Db } from "./db.ts";
import { accounts, outboundJobs, outboundRecipients, outboundSubmissions } from "./schema.ts";

/** What one answer lists at most: the contract's bound, so a flooded queue still answers quickly. */
export const QUEUE_LIST_LIMIT = 500;

export interface QueueFilter {
  state: "pending" | "all";
  /** Destination domain (lower case). */
  domain?: string | undefined;
}

const JOB_COLUMNS = {
  id: outboundJobs.id,
  domain: outboundJobs.domain,
  mailFrom: outboundSubmissions.mailFrom,
  account: accounts.address,
  size: outboundSubmissions.size,
  attempts: outboundJobs.attempts,
  nextAttemptAt: outboundJobs.nextAttemptAt,
  leaseToken: outboundJobs.leaseToken,
  leaseExpiresAt: outboundJobs.leaseExpiresAt,
  relayId: outboundJobs.relayId,
  createdAt: outboundJobs.createdAt,
};

interface JobRow {
  id: string;
  domain: string;
  mailFrom: string;
  account: string | null;
  size: number;
  attempts: number;
  nextAttemptAt: number | null;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  relayId: string | null;
  createdAt: number;
}

function selectJobs(db: Db, where: SQL | undefined) {
  // Inner join: a job always has its submission (foreign key, same batch); left join: forwarded mail and DSNs have no account.
  return db
    .select(JOB_COLUMNS)
    .from(outboundJobs)
    .innerJoin(outboundSubmissions, eq(outboundSubmissions.id, outboundJobs.submissionId))
    .leftJoin(accounts, eq(accounts.id, outboundSubmissions.accountId))
    .where(where);
}

function isLeased(job: Pick<JobRow, "leaseToken" | "leaseExpiresAt">, now: number): boolean {
  return job.leaseToken !== null && job.leaseExpiresAt !== null && job.leaseExpiresAt > now;
}

/** The recipients of `jobIds`, in the order they were queued, grouped by job. */
async function recipientsOf(db: Db, jobIds: readonly string[]): Promise<Map<string, QueuedRecipient[]>> {
  const byJob = new Map<string, QueuedRecipient[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const rows = await db
    .select({
      jobId: outboundRecipients.jobId,
      recipient: outboundRecipients.recipient,
      state: outboundRecipients.state,
      attempts: outboundRecipients.attempts,
      lastResult: outboundRecipients.lastResult,
    })
    .from(outboundRecipients)
    .where(sql`${outboundRecipients.jobId} IN (SELECT value FROM json_each(${jsonList(jobIds)}))`)
    .orderBy(sql`rowid`);
  for (const r of rows) {
    byJob.get(r.jobId)?.push({
      recipient: r.recipient,
      state: r.state,
      attempts: r.attempts,
      lastResult: (r.lastResult as RecipientOutcome | null) ?? null,
    });
  }
  return byJob;
}

function toQueuedJob(job: JobRow, recipients: QueuedRecipient[], now: number): QueuedJob {
  const leased = isLeased(job, now);
  return {
    id: job.id,
    domain: job.domain,
    mailFrom: job.mailFrom,
    account: job.account ?? null,
    size: job.size,
    attempts: job.attempts,
    nextAttemptAt: job.nextAttemptAt ?? null,
    leaseExpiresAt: leased ? job.leaseExpiresAt : null,
    relayId: job.relayId ?? null,
    createdAt: job.createdAt,
    recipients,
  };
}

export async function listQueue(db: Db, filter: QueueFilter, now: number): Promise<QueuedJob[]> {
  const conditions: SQL[] = [];
  if (filter.state === "pending") conditions.push(sql`${outboundJobs.nextAttemptAt} IS NOT NULL`);
  if (filter.domain !== undefined) conditions.push(eq(outboundJobs.domain, filter.domain));
  // rowid breaks ties between the jobs of one submission (same created_at): later insert first.
  const jobs: JobRow[] = await selectJobs(db, and(...conditions))
    .orderBy(desc(outboundJobs.createdAt), sql`${outboundJobs}.rowid DESC`)
    .limit(QUEUE_LIST_LIMIT);
  const recipients = await recipientsOf(
    db,
    jobs.map((j) => j.id),
  );
  return jobs.map((j) => toQueuedJob(j, recipients.get(j.id) ?? [], now));
}

async function findJob(db: Db, jobId: string): Promise<JobRow> {
  const job: JobRow | undefined = (await selectJobs(db, eq(outboundJobs.id, jobId)).limit(1))[0];
  if (!job) throw apiError("not_found", "No such job");
  return job;
}

export async function showJob(db: Db, jobId: string, now: number): Promise<QueuedJob> {
  const job = await findJob(db, jobId);
  const recipients = await recipientsOf(db, [jobId]);
  return toQueuedJob(job, recipients.get(jobId) ?? [], now);
}

/** SQL: the job exists and no relay holds a live lease on it at `now`. */
function notLeased(jobId: string, now: number): SQL {
  return sql`EXISTS (SELECT 1 FROM ${outboundJobs} WHERE id = ${jobId} AND (lease_token IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ${now}))`;
}

export async function retryJob(db: Db, jobId: string, now: number): Promise<QueuedJob> {
  const job = await findJob(db, jobId);
  if (isLeased(job, now)) throw apiError("conflict", "A relay is delivering this job now");
  if (job.nextAttemptAt === null) throw apiError("conflict", "Nothing is pending in this job");
  const pending = sql`EXISTS (SELECT 1 FROM ${outboundRecipients} WHERE job_id = ${jobId} AND state IN ('queued', 'deferred'))`;
  const results = await runBatch(db, [
    sql`UPDATE ${outboundRecipients} SET next_attempt_at = ${now}, updated_at = ${now}
      WHERE job_id = ${jobId} AND state IN ('queued', 'deferred') AND ${notLeased(jobId, now)}`,
    // Last, so its count tells whether the guard held for the whole batch.
    sql`UPDATE ${outboundJobs} SET next_attempt_at = ${now}
      WHERE id = ${jobId} AND next_attempt_at IS NOT NULL AND ${notLeased(jobId, now)} AND ${pending}`,
  ]);
  if (results[results.length - 1]!.meta.changes === 0) throw await conflictAfterRace(db, jobId);
  return showJob(db, jobId, now);
}

export async function deleteJob(db: Db, jobId: string, now: number): Promise<void> {
  const job = await findJob(db, jobId);
  if (isLeased(job, now)) throw apiError("conflict", "A relay is delivering this job now");
  // The job row goes last and carries the guard its recipients' delete was checked against.
  const results = await runBatch(db, [
    sql`DELETE FROM ${outboundRecipients} WHERE job_id = ${jobId} AND ${notLeased(jobId, now)}`,
    sql`DELETE FROM ${outboundJobs} WHERE id = ${jobId} AND (lease_token IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ${now})`,
  ]);
  if (results[results.length - 1]!.meta.changes === 0) throw await conflictAfterRace(db, jobId);
}

/** The guarded batch changed nothing: the job was leased, finished or deleted since it was read. */
async function conflictAfterRace(db: Db, jobId: string) {
  const still = await db.select({ id: outboundJobs.id }).from(outboundJobs).where(eq(outboundJobs.id, jobId)).limit(1);
  return still.length === 0 ? apiError("not_found", "No such job") : apiError("conflict", "The job changed meanwhile; read it again");
}
