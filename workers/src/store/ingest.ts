/**
 * THE ingest path (DESIGN.md §2.4): SMTP delivery, submission copies, IMAP APPEND, import and the
 * Email Routing `email()` handler all store a message by calling `ingestMessage`, nothing else.
 *
 * The rule this file keeps (DESIGN.md §2.1): ACCEPTED MEANS STORED. The raw message is already in
 * R2 (uploaded before the call, checked here); then ONE D1 batch — a transaction — inserts the
 * delivery row and every message row, allocating each UID and MODSEQ inside that same transaction.
 * Only after the batch resolves does this function return, and only then may anyone answer 2xx /
 * `250` / `OK`. A failure anywhere before leaves at most an unreferenced blob (garbage, reported by
 * /admin/v1/blobs/orphans), never a row without its blob.
 *
 * Callers may rely on: idempotency — replaying an idempotency key (even concurrently) stores
 * nothing and returns the first result with `duplicate: true`; all-or-nothing — one unknown
 * recipient rejects the whole call before anything is written; one copy per target mailbox
 * (recipients that resolve to the same account's INBOX are stored once); `stored` is in the order
 * of the targets, each naming the first recipient that produced it.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DeliveryResult } from "../../../common/contract.ts";
import type { MessageIndex } from "../../../common/mime/index.ts";
import { apiError } from "../errors.ts";
import { candidates, resolveRecipients } from "./accounts.ts";
import { blobKey } from "./blobs.ts";
import { jsonList, type Db } from "./db.ts";
import { normalizeFlags } from "./flags.ts";
import { accounts, deliveries, mailboxes, messages } from "./schema.ts";

/** Where one copy goes: an address (its account's INBOX, after plus-addressing) or a known mailbox. */
export type IngestTarget = { address: string } | { recipient: string; accountId: number; mailboxId: number };

export interface IngestInput {
  /** Chosen by the caller; the same key never stores twice. */
  idempotencyKey: string;
  /** The blob as uploaded: `key` is its SHA-256 (hex), `size` its octet count. */
  blob: { key: string; size: number };
  /** The SMTP reverse-path ("" for the null sender); APPEND passes "". */
  mailFrom: string;
  targets: readonly IngestTarget[];
  index: MessageIndex;
  /** Initial flags (APPEND may set them); default none. */
  flags?: readonly string[];
  /** ms since the epoch; default now (APPEND may pass a date-time). */
  internalDate?: number;
}

export interface IngestOptions {
  /** Called after every check and before the D1 batch: where tests inject a failure. */
  beforeCommit?: () => void;
  now?: number;
}

interface ResolvedTarget {
  recipient: string;
  accountId: number;
  mailboxId: number;
}

export async function ingestMessage(db: Db, bucket: R2Bucket, input: IngestInput, options: IngestOptions = {}): Promise<DeliveryResult> {
  const now = options.now ?? Date.now();
  if (input.index.size !== input.blob.size) throw apiError("bad_request", "index.size does not match blob.size");
  if (input.targets.length === 0) throw apiError("bad_request", "No recipients");

  const first = await replay(db, input);
  if (first) return first;

  const key = blobKey(input.blob.key);
  const head = await bucket.head(key);
  if (!head || head.size !== input.blob.size) throw apiError("blob_missing");

  const targets = await resolveTargets(db, input.targets);
  options.beforeCommit?.();

  const deliveryId = crypto.randomUUID();
  const flags = JSON.stringify(normalizeFlags(input.flags ?? []));
  const envelope = JSON.stringify(input.index.envelope);
  const body = JSON.stringify(input.index.body);
  const internalDate = input.internalDate ?? now;
  const statements: BatchItem<"sqlite">[] = [
    db.insert(deliveries).values({ id: deliveryId, idempotencyKey: input.idempotencyKey, blobKey: key, mailFrom: input.mailFrom, createdAt: now }),
  ];
  const inserts: number[] = [];
  for (const t of targets) {
    const thisMailbox = and(eq(mailboxes.id, t.mailboxId), eq(mailboxes.accountId, t.accountId));
    statements.push(
      db
        .update(mailboxes)
        .set({ uidnext: sql`${mailboxes.uidnext} + 1`, highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
        .where(thisMailbox),
    );
    inserts.push(statements.length);
    statements.push(
      db
        .insert(messages)
        .select(
          db
            .select({
              id: sql<number>`NULL`.as("id"),
              accountId: mailboxes.accountId,
              mailboxId: mailboxes.id,
              // The UPDATE above already advanced the counters: the allocated values are one below / equal.
              uid: sql<number>`${mailboxes.uidnext} - 1`.as("uid"),
              modseq: mailboxes.highestmodseq,
              flags: sql<string>`${flags}`.as("flags"),
              internalDate: sql<number>`${internalDate}`.as("internal_date"),
              size: sql<number>`${input.blob.size}`.as("size"),
              headerSize: sql<number>`${input.index.headerSize}`.as("header_size"),
              blobKey: sql<string>`${key}`.as("blob_key"),
              envelope: sql<string>`${envelope}`.as("envelope"),
              bodystructure: sql<string>`${body}`.as("bodystructure"),
              deliveryId: sql<string>`${deliveryId}`.as("delivery_id"),
              createdAt: sql<number>`${now}`.as("created_at"),
            })
            .from(mailboxes)
            .where(thisMailbox),
        )
        .returning({ accountId: messages.accountId, mailboxId: messages.mailboxId, uid: messages.uid }),
    );
  }

  let results: unknown[];
  try {
    results = await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (err) {
    // A concurrent request with the same key committed first (unique idempotency_key): that is success.
    const winner = await replay(db, input);
    if (winner) return winner;
    throw err;
  }

  const stored = targets.map((t, i) => {
    const row = (results[inserts[i]!] as { accountId: number; mailboxId: number; uid: number }[])[0];
    // Only possible if the mailbox vanished between resolving and committing.
    if (!row) console.error("edge: ingest stored no row for a target", { deliveryId, mailboxId: t.mailboxId });
    return row ? { recipient: t.recipient, accountId: row.accountId, mailboxId: row.mailboxId, uid: row.uid } : null;
  });
  return { deliveryId, duplicate: false, stored: stored.filter((s) => s !== null) };
}

/** The committed result for this idempotency key, rebuilt from its message rows; undefined if none. */
async function replay(db: Db, input: IngestInput): Promise<DeliveryResult | undefined> {
  const found = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(eq(deliveries.idempotencyKey, input.idempotencyKey))
    .limit(1);
  const delivery = found[0];
  if (!delivery) return undefined;
  const rows = await db
    .select({ accountId: messages.accountId, mailboxId: messages.mailboxId, uid: messages.uid, address: accounts.address })
    .from(messages)
    .innerJoin(accounts, eq(accounts.id, messages.accountId))
    .where(eq(messages.deliveryId, delivery.id))
    .orderBy(asc(messages.id));
  return {
    deliveryId: delivery.id,
    duplicate: true,
    stored: rows.map((r) => ({
      recipient: recipientFor(input.targets, r) ?? r.address,
      accountId: r.accountId,
      mailboxId: r.mailboxId,
      uid: r.uid,
    })),
  };
}

/** The first target that would have produced this row, so a replay names the same recipient. */
function recipientFor(targets: readonly IngestTarget[], row: { mailboxId: number; address: string }): string | undefined {
  for (const t of targets) {
    if ("address" in t) {
      if (candidates(t.address).includes(row.address)) return t.address.trim().toLowerCase();
    } else if (t.mailboxId === row.mailboxId) return t.recipient;
  }
  return undefined;
}

async function resolveTargets(db: Db, targets: readonly IngestTarget[]): Promise<ResolvedTarget[]> {
  const addresses = targets.flatMap((t) => ("address" in t ? [t.address.trim().toLowerCase()] : []));
  const local = await resolveRecipients(db, addresses);
  const explicit = targets.filter((t): t is Exclude<IngestTarget, { address: string }> => !("address" in t));
  if (explicit.length > 0) {
    const owned = await db
      .select({ id: mailboxes.id, accountId: mailboxes.accountId })
      .from(mailboxes)
      .where(sql`${mailboxes.id} IN (SELECT value FROM json_each(${jsonList(explicit.map((t) => t.mailboxId))}))`);
    for (const t of explicit) {
      if (!owned.some((m) => m.id === t.mailboxId && m.accountId === t.accountId)) throw apiError("no_such_mailbox");
    }
  }
  const out: ResolvedTarget[] = [];
  const seen = new Set<number>();
  for (const t of targets) {
    let resolved: ResolvedTarget;
    if ("address" in t) {
      const address = t.address.trim().toLowerCase();
      const hit = local.get(address);
      if (!hit) throw apiError("unknown_recipient");
      resolved = { recipient: address, accountId: hit.accountId, mailboxId: hit.inboxId };
    } else {
      resolved = t;
    }
    if (seen.has(resolved.mailboxId)) continue;
    seen.add(resolved.mailboxId);
    out.push({ recipient: resolved.recipient, accountId: resolved.accountId, mailboxId: resolved.mailboxId });
  }
  return out;
}
