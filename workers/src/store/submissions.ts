/**
 * Submission (RFC 6409): a message an authenticated account sends, split at the edge. Recipients
 * of our own domains get their copy at once through THE ingest path (store/ingest.ts); every other
 * recipient joins one outbound job per destination domain, due now, for relays to lease
 * (store/outbound.ts).
 *
 * The rule this file keeps (DESIGN.md §2.1): ACCEPTED MEANS STORED. The blob is checked in R2
 * first; then ONE D1 batch holds the local copies, the submission row, its jobs and its recipient
 * rows, so there is never a queued job without its blob, nor local copies without the queue rows
 * (or the reverse). Only then does `submit` return.
 *
 * Callers may rely on: idempotency per account — replaying an idempotency key returns the first
 * result with `duplicate: true` and stores nothing (concurrent replays too); all-or-nothing — an
 * unknown user of one of our domains rejects the whole submission with unknown_recipient (the
 * relay checks RCPT before DATA, so this is a race, not a routine answer), a missing blob with
 * blob_missing, a full local account with over_quota; addresses of ours resolve as at the MX
 * (store/addressing.ts: aliases, plus-addressing, catch-all…), an alias's external targets joining
 * the remote recipients (sent with the submitter's own reverse-path: the mail is ours, no SRS);
 * `queued` lists the remote recipients in request order (alias targets at their alias's place),
 * duplicates removed. {@link queueInserts} is how anything else (forwarding) queues a message.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { SearchFields, SubmissionResult } from "../../../common/contract.ts";
import type { MessageIndex } from "../../../common/mime/index.ts";
import { apiError } from "../errors.ts";
import { AddressBook, domainOf, type SrsContext } from "./addressing.ts";
import { blobKey } from "./blobs.ts";
import { chunkByJsonSize, runBatch, type Db, type Query } from "./db.ts";
import { ingestMessage, type IngestInput } from "./ingest.ts";
import { accounts, outboundJobs, outboundRecipients, outboundSubmissions } from "./schema.ts";

export interface SubmissionInput {
  idempotencyKey: string;
  blob: { key: string; size: number };
  mailFrom: string;
  recipients: readonly string[];
  index: MessageIndex;
  search?: SearchFields | undefined;
}

export async function submit(
  db: Db,
  bucket: R2Bucket,
  accountId: number,
  input: SubmissionInput,
  now: number,
  srs?: SrsContext,
): Promise<SubmissionResult> {
  const account = (await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).limit(1))[0];
  if (!account) throw apiError("not_found", "No such account");
  if (input.index.size !== input.blob.size) throw apiError("bad_request", "index.size does not match blob.size");

  const first = await replay(db, bucket, accountId, input);
  if (first) return first;

  const head = await bucket.head(blobKey(input.blob.key));
  if (!head || head.size !== input.blob.size) throw apiError("blob_missing");

  const recipients = [...new Set(input.recipients.map((r) => r.trim().toLowerCase()))];
  const book = new AddressBook(db, srs);
  await book.prefetch(recipients);
  const localRecipients: string[] = [];
  const remote: string[] = [];
  for (const r of recipients) {
    const resolved = await book.resolve(r);
    if (resolved.result === "unknown_user") throw apiError("unknown_recipient");
    if (resolved.result === "foreign_domain") {
      remote.push(r);
      continue;
    }
    if (resolved.accounts.length > 0) localRecipients.push(r);
    remote.push(...resolved.forwards.map((f) => f.to));
  }
  const others = [...new Set(remote)];

  const submissionId = crypto.randomUUID();
  const statements = queueInserts(db, {
    submissionId,
    accountId,
    deliveryId: null,
    idempotencyKey: input.idempotencyKey,
    blob: input.blob,
    headerSize: input.index.headerSize,
    mailFrom: input.mailFrom,
    localRecipients,
    recipients: others,
    now,
  });

  try {
    if (localRecipients.length === 0) {
      await runBatch(db, statements);
      return { submissionId, duplicate: false, local: [], queued: others };
    }
    const stored = await ingestMessage(db, bucket, localIngest(accountId, input, localRecipients), { now, alsoCommit: statements, book });
    // A concurrent replay committed first: its submission row is the one that counts.
    if (stored.duplicate) return (await replay(db, bucket, accountId, input)) ?? stored_missing();
    return { submissionId, duplicate: false, local: stored.stored, queued: others };
  } catch (err) {
    // A concurrent request with the same key committed first (unique account + key): that is success.
    const winner = await replay(db, bucket, accountId, input);
    if (winner) return winner;
    throw err;
  }
}

function stored_missing(): never {
  // The delivery committed in the same batch as the submission row; one without the other is a bug.
  console.error("edge: submission delivery exists without its submission row");
  throw apiError("internal");
}

/** The local copies go through the one ingest path, under a key derived from the submission's. */
function localIngest(accountId: number, input: SubmissionInput, recipients: readonly string[]): IngestInput {
  return {
    idempotencyKey: `submission:${accountId}:${input.idempotencyKey}`,
    mailFrom: input.mailFrom,
    targets: recipients.map((address) => ({ address })),
    messages: [{ blob: input.blob, index: input.index, search: input.search }],
  };
}

/** The committed result for this account's key, or undefined. Local copies are re-read through ingest's own replay. */
async function replay(db: Db, bucket: R2Bucket, accountId: number, input: SubmissionInput): Promise<SubmissionResult | undefined> {
  const found = await db
    .select({ id: outboundSubmissions.id, localRecipients: outboundSubmissions.localRecipients })
    .from(outboundSubmissions)
    .where(and(eq(outboundSubmissions.accountId, accountId), eq(outboundSubmissions.idempotencyKey, input.idempotencyKey)))
    .limit(1);
  const submission = found[0];
  if (!submission) return undefined;
  const queued = await db
    .select({ recipient: outboundRecipients.recipient })
    .from(outboundRecipients)
    .where(eq(outboundRecipients.submissionId, submission.id))
    .orderBy(sql`rowid`);
  const local =
    submission.localRecipients.length > 0
      ? (await ingestMessage(db, bucket, localIngest(accountId, input, submission.localRecipients))).stored
      : [];
  return { submissionId: submission.id, duplicate: true, local, queued: queued.map((r) => r.recipient) };
}

export interface QueuedMessage {
  submissionId: string;
  /** null: not sent by an account of ours (forwarded mail, a DSN for it). */
  accountId: number | null;
  /** The received delivery this forwards, if it does. */
  deliveryId: string | null;
  idempotencyKey: string;
  blob: { key: string; size: number };
  headerSize: number;
  mailFrom: string;
  /** Recorded for replays of a submission: its copies stored through the ingest path. */
  localRecipients: readonly string[];
  /** Remote recipients, lower case, without duplicates: one job per domain, due at `now`. */
  recipients: readonly string[];
  now: number;
}

/** The statements that queue a message: its submission row, one job per domain and its recipients. */
export function queueInserts(db: Db, m: QueuedMessage, guard?: SQL): Query[] {
  const { submissionId, now } = m;
  const jobIds = new Map<string, string>();
  for (const r of m.recipients) if (!jobIds.has(domainOf(r))) jobIds.set(domainOf(r), crypto.randomUUID());
  // A guard (e.g. "this lease is still held") must hold for the submission row; jobs and
  // recipients follow only if that row was written.
  const when = guard ?? sql`1`;
  const written = sql`EXISTS (SELECT 1 FROM ${outboundSubmissions} WHERE id = ${submissionId})`;
  const statements: Query[] = [
    sql`INSERT INTO ${outboundSubmissions} (id, account_id, delivery_id, idempotency_key, blob_key, mail_from, size, header_size, local_recipients, created_at)
      SELECT ${submissionId}, ${m.accountId}, ${m.deliveryId}, ${m.idempotencyKey}, ${blobKey(m.blob.key)}, ${m.mailFrom}, ${m.blob.size},
        ${m.headerSize}, ${JSON.stringify(m.localRecipients)}, ${now}
      WHERE ${when}`,
  ];
  for (const run of chunkByJsonSize([...jobIds].map(([domain, id]) => ({ id, domain })))) {
    statements.push(sql`INSERT INTO ${outboundJobs} (id, submission_id, domain, attempts, next_attempt_at, created_at)
      SELECT j.value ->> '$.id', ${submissionId}, j.value ->> '$.domain', 0, ${now}, ${now}
      FROM json_each(${JSON.stringify(run.items)}) AS j WHERE ${written} ORDER BY j.key`);
  }
  const rows = m.recipients.map((recipient) => ({ jobId: jobIds.get(domainOf(recipient))!, recipient, domain: domainOf(recipient) }));
  for (const run of chunkByJsonSize(rows)) {
    statements.push(sql`INSERT INTO ${outboundRecipients} (submission_id, job_id, recipient, domain, state, attempts, next_attempt_at, updated_at)
      SELECT ${submissionId}, j.value ->> '$.jobId', j.value ->> '$.recipient', j.value ->> '$.domain', 'queued', 0, ${now}, ${now}
      FROM json_each(${JSON.stringify(run.items)}) AS j WHERE ${written} ORDER BY j.key`);
  }
  return statements;
}
