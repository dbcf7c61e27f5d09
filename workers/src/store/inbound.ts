/**
 * Mail received by the MX (`POST /relay/v1/deliveries`): each envelope recipient resolved as at
 * RCPT time (store/addressing.ts), copies stored through THE ingest path, external alias targets
 * forwarded through the outbound queue.
 *
 * The rule this file keeps (DESIGN.md §2.1): ACCEPTED MEANS STORED. The copies, the delivery row
 * (with its authentication results) and the forwarding queue rows (a submission-like row without
 * an account, its jobs and recipients) are ONE D1 batch.
 *
 * Callers may rely on: a replayed idempotency key answers the first result with `duplicate: true`
 * before anything is resolved, so it stores and queues nothing new even if addressing changed
 * since; one copy per account per delivery, whichever recipients and aliases led to it, naming
 * the first envelope recipient that did; a `quarantine` verdict puts the copies in each account's
 * Junk (special-use junk; INBOX for an account that has none); every external target is queued
 * once per delivery, with the reverse-path rewritten by SRS (auth/srs.ts) at the domain of the
 * alias that named it — one queued message per such domain — and the null reverse-path kept null;
 * a quarantined message is forwarded too (the next hop judges it itself); an unknown recipient
 * rejects the whole delivery with unknown_recipient before anything is written.
 *
 * Report addresses (`<reportLocalPart>@<domain>`, store/addressing.ts step 0): when a recipient
 * is one, the message (at most REPORT_LIMITS.messageBytes, read back from R2) must hold a DMARC
 * or TLS-RPT report about a domain of ours (reports/report-mail.ts); its rows, naming this
 * delivery, join the same batch (store/reports.ts), and the message is filed in no mailbox for
 * that recipient. A report already stored (same organization and report id) adds no rows; a
 * message without a readable report, or one about a foreign domain, rejects the whole delivery
 * with bad_request and the reason (too_large for the size limits) before anything is written.
 */
import type { DeliveryResult, InboundAuthentication, SearchFields } from "../../../common/contract.ts";
import type { MessageIndex } from "../../../common/mime/index.ts";
import type { z } from "zod";
import { srsForward } from "../auth/srs.ts";
import { apiError } from "../errors.ts";
import { AddressBook, type SrsContext } from "./addressing.ts";
import type { Db, Query } from "./db.ts";
import { ingestMessage, replayIngest, type IngestTarget } from "./ingest.ts";
import { prepareReport, readReportMail } from "./reports.ts";
import { queueInserts } from "./submissions.ts";

export interface ReceivedMessage {
  idempotencyKey: string;
  blob: { key: string; size: number };
  mailFrom: string;
  recipients: readonly string[];
  index: MessageIndex;
  search?: SearchFields | undefined;
  authentication?: z.output<typeof InboundAuthentication> | undefined;
}

export interface ReceiveOptions {
  srs: SrsContext;
  now: number;
  beforeCommit?: () => void;
}

export async function receiveMessage(db: Db, bucket: R2Bucket, input: ReceivedMessage, options: ReceiveOptions): Promise<DeliveryResult> {
  const recipients = input.recipients.map((r) => r.trim().toLowerCase());
  const first = await replayIngest(db, input.idempotencyKey, recipients.map((address) => ({ address })));
  if (first) return first;

  const book = new AddressBook(db, options.srs, { reports: true });
  await book.prefetch(recipients);
  const quarantine = input.authentication?.verdict === "quarantine";
  const targets = new Map<number, IngestTarget>();
  /** External target → the domain of ours that forwards it. */
  const forwards = new Map<string, string>();
  let report = false;
  for (const recipient of recipients) {
    const resolved = await book.resolve(recipient);
    if (resolved.result !== "local") throw apiError("unknown_recipient");
    for (const a of resolved.accounts) {
      if (targets.has(a.accountId)) continue;
      const mailboxId = (quarantine ? a.junkId : null) ?? a.inboxId;
      if (mailboxId === null) throw apiError("unknown_recipient");
      targets.set(a.accountId, { recipient, accountId: a.accountId, mailboxId });
    }
    for (const f of resolved.forwards) if (!forwards.has(f.to)) forwards.set(f.to, f.via);
    if (resolved.reports.length > 0) report = true;
  }

  const deliveryId = crypto.randomUUID();
  // One message holds one report, however many report addresses it was sent to.
  const reportRows = report
    ? (await prepareReport(db, await readReportMail(bucket, input.blob), { via: "mail", deliveryId, now: options.now })).statements
    : [];
  const byDomain = new Map<string, string[]>();
  for (const [to, via] of forwards) byDomain.set(via, [...(byDomain.get(via) ?? []), to]);
  const queued: Query[] = [];
  if (byDomain.size > 0) {
    const key = await options.srs.key();
    for (const [via, list] of byDomain) {
      queued.push(
        ...queueInserts(db, {
          submissionId: crypto.randomUUID(),
          accountId: null,
          deliveryId,
          idempotencyKey: `forward:${input.idempotencyKey}:${via}`,
          blob: input.blob,
          headerSize: input.index.headerSize,
          mailFrom: await srsForward(key, input.mailFrom, via, options.now),
          localRecipients: [],
          recipients: list,
          now: options.now,
        }),
      );
    }
  }

  return ingestMessage(
    db,
    bucket,
    {
      idempotencyKey: input.idempotencyKey,
      mailFrom: input.mailFrom,
      targets: [...targets.values()],
      messages: [{ blob: input.blob, index: input.index, search: input.search }],
      deliveryId,
      received: { recipients, authentication: input.authentication ?? null, forwarded: [...forwards.keys()], report },
    },
    { now: options.now, beforeCommit: options.beforeCommit, alsoCommit: [...queued, ...reportRows], book },
  );
}
