/**
 * THE ingest path (DESIGN.md §2.4): SMTP delivery, submission copies, IMAP APPEND, import and the
 * Email Routing `email()` handler all store a message by calling `ingestMessage`, nothing else.
 *
 * The rule this file keeps (DESIGN.md §2.1): ACCEPTED MEANS STORED. The raw message is already in
 * R2 (uploaded before the call, checked here); then ONE D1 batch — a transaction — inserts the
 * delivery row, every message row and its body text for search, allocating each UID and MODSEQ
 * inside that same transaction. Only after the batch resolves does this function return, and only
 * then may anyone answer 2xx / `250` / `OK`. A failure anywhere before leaves at most an
 * unreferenced blob (garbage, reported by /admin/v1/blobs/orphans), never a row without its blob.
 *
 * Callers may rely on: idempotency — replaying an idempotency key (even concurrently) stores
 * nothing and returns the first result with `duplicate: true` (APPEND, which has no key of its
 * own, passes a fresh one); all-or-nothing — one unknown recipient, one missing blob or one
 * account over its quota rejects the whole call before anything is written; an address target
 * is resolved by store/addressing.ts and gets a copy in the INBOX of each account it resolves to
 * (its external forwards are the caller's business: see store/inbound.ts); one copy per target
 * mailbox (recipients that resolve to the same account's INBOX are stored once); every target
 * gets every message, with consecutive UIDs in message order and one new MODSEQ per target
 * (MULTIAPPEND, RFC 3502); `stored` is in the order of the targets, then of the messages, each
 * naming the first recipient that produced it (a replay names the same ones: the delivery row
 * records its copies). A call with no copy at all is allowed only when it records forwarded
 * recipients (mail for an alias with only external targets) or a report (mail to a report
 * address, whose rows come in `alsoCommit`: store/inbound.ts).
 */
import { asc, eq, sql } from "drizzle-orm";
import type { DeliveryResult, InboundAuthentication, SearchFields } from "../../../common/contract.ts";
import type { MessageIndex } from "../../../common/mime/index.ts";
import { apiError } from "../errors.ts";
import type { z } from "zod";
import { AddressBook } from "./addressing.ts";
import { blobKey } from "./blobs.ts";
import { chunkByJsonSize, JSON_RUN_BUDGET, jsonList, runBatch, type Db, type Query } from "./db.ts";
import { normalizeFlags } from "./flags.ts";
import { assertQuota, quotaQuery } from "./quota.ts";
import { accounts, deliveries, mailboxes, messages, type DeliveryCopy } from "./schema.ts";

/** Where one copy goes: an address (the INBOX of each account it resolves to) or a known mailbox. */
export type IngestTarget = { address: string } | { recipient: string; accountId: number; mailboxId: number };

/** One message to store: its uploaded blob and what the relay computed from it. */
export interface IngestMessage {
  /** The blob as uploaded: `key` is its SHA-256 (hex), `size` its octet count. */
  blob: { key: string; size: number };
  index: MessageIndex;
  /** Absent: found by SEARCH only through non-text keys, sorted with empty strings. */
  search?: SearchFields | undefined;
  /** Initial flags (APPEND may set them); default none. */
  flags?: readonly string[] | undefined;
  /** ms since the epoch; default now (APPEND may pass a date-time). */
  internalDate?: number | undefined;
}

export interface IngestInput {
  /** Chosen by the caller; the same key never stores twice. */
  idempotencyKey: string;
  /** The SMTP reverse-path ("" for the null sender); APPEND passes "". */
  mailFrom: string;
  targets: readonly IngestTarget[];
  /** One for a delivery; MULTIAPPEND passes several, all for one target. */
  messages: readonly IngestMessage[];
  /** The delivery row's id; default a fresh UUID. Callers whose `alsoCommit` rows name it pass their own. */
  deliveryId?: string;
  /** Mail received by the MX: what the admin's delivery record shows (store/inbound.ts). */
  received?: {
    recipients: readonly string[];
    authentication: z.output<typeof InboundAuthentication> | null;
    forwarded: readonly string[];
    /** The message went to a report address: it was parsed into report rows, not filed. */
    report?: boolean;
  };
}

export interface IngestOptions {
  /** Called after every check and before the D1 batch: where tests inject a failure. */
  beforeCommit?: () => void;
  now?: number;
  /**
   * Statements committed in the SAME D1 batch, after the message rows (e.g. a submission's queue
   * rows, a report's recipient states), so they and the copies are durable together or not at all.
   * Not run when the call is a replay (they were committed with the first call).
   */
  alsoCommit?: readonly Query[];
  /** Resolves address targets; pass the caller's own to reuse what it already looked up. */
  book?: AddressBook;
}

type ResolvedTarget = DeliveryCopy;

/**
 * Body text kept for search, in UTF-8 octets: the relay truncates at 1 MiB characters, which
 * non-ASCII text could turn into more than D1's 2 MB per value.
 */
const MAX_BODY_BYTES = 1024 * 1024;
/** R2 HEAD requests in flight at once when checking the blobs of a MULTIAPPEND. */
const BLOB_CHECKS_IN_FLIGHT = 8;

export async function ingestMessage(db: Db, bucket: R2Bucket, input: IngestInput, options: IngestOptions = {}): Promise<DeliveryResult> {
  const now = options.now ?? Date.now();
  if (input.targets.length === 0 && !input.received?.forwarded.length && !input.received?.report) throw apiError("bad_request", "No recipients");
  if (input.messages.length === 0) throw apiError("bad_request", "No messages");
  if (input.messages.some((m) => m.index.size !== m.blob.size)) throw apiError("bad_request", "index.size does not match blob.size");

  const first = await replayIngest(db, input.idempotencyKey, input.targets);
  if (first) return first;

  await assertBlobs(bucket, input.messages);
  const targets = await resolveTargets(db, input.targets, options.book ?? new AddressBook(db));
  const bytes = input.messages.reduce((sum, m) => sum + m.blob.size, 0);
  const adding = new Map<number, number>();
  for (const t of targets) adding.set(t.accountId, (adding.get(t.accountId) ?? 0) + bytes);
  assertQuota(await quotaQuery(db, [...adding.keys()]), adding);
  options.beforeCommit?.();

  const deliveryId = input.deliveryId ?? crypto.randomUUID();
  const count = input.messages.length;
  const rows = chunkByJsonSize(input.messages.map((m) => messageRow(m, now)));
  const statements: Query[] = [
    db.insert(deliveries).values({
      id: deliveryId,
      idempotencyKey: input.idempotencyKey,
      blobKey: blobKey(input.messages[0]!.blob.key),
      mailFrom: input.mailFrom,
      createdAt: now,
      copies: targets,
      ...(input.received
        ? { recipients: [...input.received.recipients], authentication: input.received.authentication, forwarded: [...input.received.forwarded] }
        : {}),
    }),
  ];
  const inserts: number[][] = [];
  for (const t of targets) {
    statements.push(sql`UPDATE ${mailboxes} SET uidnext = uidnext + ${count}, highestmodseq = highestmodseq + 1
      WHERE id = ${t.mailboxId} AND account_id = ${t.accountId}`);
    const mine: number[] = [];
    for (const run of rows) {
      mine.push(statements.length);
      // The UPDATE above already advanced the counters: message k of this call gets uidnext - count + k.
      statements.push(sql`INSERT INTO ${messages} (account_id, mailbox_id, uid, modseq, flags, internal_date, size,
          header_size, blob_key, envelope, bodystructure, delivery_id, created_at, search_headers, sent_date, sent_at,
          sort_subject, sort_from, sort_to, sort_cc, sort_display_from, sort_display_to,
          thread_message_id, thread_in_reply_to, thread_references, thread_is_reply)
        SELECT b.account_id, b.id, b.uidnext - ${count} + ${run.offset} + j.key, b.highestmodseq,
          j.value -> '$.flags', j.value ->> '$.internalDate', j.value ->> '$.size', j.value ->> '$.headerSize',
          j.value ->> '$.blobKey', j.value -> '$.envelope', j.value -> '$.body', ${deliveryId}, ${now},
          j.value -> '$.headers', j.value ->> '$.sentDate', j.value ->> '$.sentAt',
          j.value ->> '$.subject', j.value ->> '$.from', j.value ->> '$.to', j.value ->> '$.cc',
          j.value ->> '$.displayFrom', j.value ->> '$.displayTo',
          j.value ->> '$.messageId', j.value ->> '$.inReplyTo', j.value -> '$.references',
          coalesce(j.value ->> '$.isReply', 0)
        FROM ${mailboxes} AS b, json_each(${JSON.stringify(run.items)}) AS j
        WHERE b.id = ${t.mailboxId} AND b.account_id = ${t.accountId}
        ORDER BY j.key
        RETURNING account_id AS accountId, mailbox_id AS mailboxId, uid`);
    }
    inserts.push(mine);
  }
  statements.push(...bodyTextStatements(deliveryId, input.messages));
  statements.push(...(options.alsoCommit ?? []));

  let results: D1Result<{ accountId: number; mailboxId: number; uid: number }>[];
  try {
    results = await runBatch(db, statements);
  } catch (err) {
    // A concurrent request with the same key committed first (unique idempotency_key): that is success.
    const winner = await replayIngest(db, input.idempotencyKey, input.targets);
    if (winner) return winner;
    throw err;
  }

  const stored = targets.flatMap((t, i) => {
    const placed = inserts[i]!.flatMap((at) => results[at]!.results);
    // Only possible if the mailbox vanished between resolving and committing.
    if (placed.length !== count) console.error("edge: ingest stored fewer rows than messages for a target", { deliveryId, mailboxId: t.mailboxId });
    return placed.map((row) => ({ recipient: t.recipient, accountId: row.accountId, mailboxId: row.mailboxId, uid: row.uid }));
  });
  return { deliveryId, duplicate: false, stored };
}

/** A message's columns as one JSON object (see the INSERT above); absent search fields stay NULL. */
function messageRow(m: IngestMessage, now: number) {
  const s = m.search;
  return {
    flags: normalizeFlags(m.flags ?? []),
    internalDate: m.internalDate ?? now,
    size: m.blob.size,
    headerSize: m.index.headerSize,
    blobKey: blobKey(m.blob.key),
    envelope: m.index.envelope,
    body: m.index.body,
    ...(s
      ? {
          headers: s.headers,
          sentDate: s.sentDate,
          sentAt: s.sentAt,
          subject: s.sort.subject,
          from: s.sort.from,
          to: s.sort.to,
          cc: s.sort.cc,
          displayFrom: s.sort.displayFrom,
          displayTo: s.sort.displayTo,
          messageId: s.thread.messageId,
          inReplyTo: s.thread.inReplyTo,
          references: s.thread.references,
          isReply: s.thread.isReply,
        }
      : {}),
  };
}

/**
 * The body text rows (messages_fts, rowid = messages.id) of every stored copy. They follow the
 * message inserts in the batch and find their rows by delivery and UID, for all targets at once.
 * Texts travel as [message position, text] in JSON runs; a text too large for a run is bound alone.
 */
function bodyTextStatements(deliveryId: string, list: readonly IngestMessage[]): Query[] {
  const count = list.length;
  const texts = list.flatMap((m, i): [number, string][] => (m.search ? [[i, truncateUtf8(m.search.body, MAX_BODY_BYTES)]] : []));
  return chunkByJsonSize(texts).map((run) => {
    const only = run.items[0]!;
    if (run.items.length === 1 && JSON.stringify(only).length > JSON_RUN_BUDGET) {
      return sql`INSERT INTO messages_fts (rowid, body)
        SELECT m.id, ${only[1]} FROM ${messages} AS m JOIN ${mailboxes} AS b ON b.id = m.mailbox_id
        WHERE m.delivery_id = ${deliveryId} AND m.uid = b.uidnext - ${count} + ${only[0]}`;
    }
    return sql`INSERT INTO messages_fts (rowid, body)
      SELECT m.id, j.value ->> 1 FROM json_each(${JSON.stringify(run.items)}) AS j
      JOIN ${messages} AS m ON m.delivery_id = ${deliveryId}
      JOIN ${mailboxes} AS b ON b.id = m.mailbox_id
      WHERE m.uid = b.uidnext - ${count} + (j.value ->> 0)`;
  });
}

/** Cuts text to at most `max` UTF-8 octets, at a character boundary. */
export function truncateUtf8(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** Every blob must be in R2 with the announced size before any row may name it. */
async function assertBlobs(bucket: R2Bucket, list: readonly IngestMessage[]): Promise<void> {
  const sizes = new Map(list.map((m) => [blobKey(m.blob.key), m.blob.size]));
  const keys = [...sizes.keys()];
  for (let i = 0; i < keys.length; i += BLOB_CHECKS_IN_FLIGHT) {
    const heads = await Promise.all(keys.slice(i, i + BLOB_CHECKS_IN_FLIGHT).map((k) => bucket.head(k)));
    heads.forEach((head, j) => {
      if (!head || head.size !== sizes.get(keys[i + j]!)) throw apiError("blob_missing");
    });
  }
}

/**
 * The committed result for this idempotency key, rebuilt from its message rows; undefined if none.
 * Each copy names the recipient recorded with the delivery (rows from before that record existed
 * are matched against `targets`, as they were then).
 */
export async function replayIngest(db: Db, idempotencyKey: string, targets: readonly IngestTarget[]): Promise<DeliveryResult | undefined> {
  const found = await db
    .select({ id: deliveries.id, copies: deliveries.copies })
    .from(deliveries)
    .where(eq(deliveries.idempotencyKey, idempotencyKey))
    .limit(1);
  const delivery = found[0];
  if (!delivery) return undefined;
  const rows = await db
    .select({ accountId: messages.accountId, mailboxId: messages.mailboxId, uid: messages.uid, address: accounts.address })
    .from(messages)
    .innerJoin(accounts, eq(accounts.id, messages.accountId))
    .where(eq(messages.deliveryId, delivery.id))
    .orderBy(asc(messages.id));
  const recorded = new Map((delivery.copies ?? []).map((c) => [c.mailboxId, c.recipient]));
  return {
    deliveryId: delivery.id,
    duplicate: true,
    stored: rows.map((r) => ({
      recipient: recorded.get(r.mailboxId) ?? legacyRecipient(targets, r) ?? r.address,
      accountId: r.accountId,
      mailboxId: r.mailboxId,
      uid: r.uid,
    })),
  };
}

/** For deliveries stored before copies were recorded: the target that produced the row then. */
function legacyRecipient(targets: readonly IngestTarget[], row: { mailboxId: number; address: string }): string | undefined {
  for (const t of targets) {
    if ("address" in t) {
      const lower = t.address.trim().toLowerCase();
      const at = lower.lastIndexOf("@");
      const plus = lower.indexOf("+");
      const base = plus > 0 && plus < at ? lower.slice(0, plus) + lower.slice(at) : lower;
      if (row.address === lower || row.address === base) return lower;
    } else if (t.mailboxId === row.mailboxId) return t.recipient;
  }
  return undefined;
}

async function resolveTargets(db: Db, targets: readonly IngestTarget[], book: AddressBook): Promise<ResolvedTarget[]> {
  const addresses = targets.flatMap((t) => ("address" in t ? [t.address.trim().toLowerCase()] : []));
  await book.prefetch(addresses);
  const wanted: { recipient: string; accountId: number; mailboxId: number }[] = [];
  for (const t of targets) {
    if (!("address" in t)) {
      wanted.push(t);
      continue;
    }
    const recipient = t.address.trim().toLowerCase();
    const resolved = await book.resolve(recipient);
    if (resolved.result !== "local" || resolved.accounts.length === 0) throw apiError("unknown_recipient");
    for (const a of resolved.accounts) {
      if (a.inboxId === null) throw apiError("unknown_recipient");
      wanted.push({ recipient, accountId: a.accountId, mailboxId: a.inboxId });
    }
  }
  const owned = await db
    .select({ id: mailboxes.id, accountId: mailboxes.accountId, name: mailboxes.name, address: accounts.address })
    .from(mailboxes)
    .innerJoin(accounts, eq(accounts.id, mailboxes.accountId))
    .where(sql`${mailboxes.id} IN (SELECT value FROM json_each(${jsonList(wanted.map((t) => t.mailboxId))}))`);
  const byId = new Map(owned.map((m) => [m.id, m]));
  const out: ResolvedTarget[] = [];
  const seen = new Set<number>();
  for (const t of wanted) {
    const mailbox = byId.get(t.mailboxId);
    if (!mailbox || mailbox.accountId !== t.accountId) throw apiError("no_such_mailbox");
    if (seen.has(t.mailboxId)) continue;
    seen.add(t.mailboxId);
    out.push({ recipient: t.recipient, accountId: t.accountId, address: mailbox.address, mailboxId: t.mailboxId, mailbox: mailbox.name });
  }
  return out;
}
