/** Submission, sender checks, the outbound queue (leases, raw reads, reports with TLS results). Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import type { MessageIndex } from "../mime/index.ts";
import { EmailAddress } from "./base.ts";
import { BlobStored, MessageIndexShape, SearchFields, StoredCopy } from "./deliveries.ts";

// ---- submission and the outbound queue ------------------------------------------------
//
//   POST /relay/v1/accounts/:a/senders/check        SenderCheckRequest → SenderCheckResult
//   POST /relay/v1/accounts/:a/submissions          SubmissionRequest → SubmissionResult (idempotent)
//   POST /relay/v1/outbound/lease                   LeaseRequest → LeaseResult
//   GET  /relay/v1/outbound/:jobId/raw?lease=token  → the message octets (while the lease holds)
//   POST /relay/v1/outbound/:jobId/result           DeliveryReport → DeliveryReportResult
//
// A submission is stored once (its blob in R2) and split at the edge: recipients of our
// domains get their copy through the one ingest path at once; every other recipient becomes
// part of one outbound job per destination domain, which relays lease, deliver and report.

/** May the authenticated account use this address as MAIL FROM / From (RFC 6409 §4.3)? */
export const SenderCheckRequest = z.object({ address: z.string().max(320) });
export const SenderCheckResult = z.object({ allowed: z.boolean() });
export type SenderCheckResult = z.infer<typeof SenderCheckResult>;

export const SubmissionRequest = z.object({
  idempotencyKey: z.string().min(8).max(200),
  blob: BlobStored,
  envelope: z.object({
    mailFrom: z.string().max(320),
    recipients: z.array(EmailAddress).min(1).max(1000),
  }),
  index: MessageIndexShape,
  search: SearchFields.optional(),
});
export type SubmissionRequest = Omit<z.input<typeof SubmissionRequest>, "index"> & { index: MessageIndex };

export const SubmissionResult = z.object({
  submissionId: z.string(),
  duplicate: z.boolean(),
  /** Copies already stored for recipients of our own domains. */
  local: z.array(StoredCopy),
  /** Recipients queued for delivery elsewhere. */
  queued: z.array(z.string()),
});
export type SubmissionResult = z.infer<typeof SubmissionResult>;

export const LeaseRequest = z.object({
  /** Names the relay in logs and in the job's history. */
  relayId: z.string().min(1).max(100),
  max: z.number().int().min(1).max(100).default(10),
  /** How long the job is this relay's; after that another relay may lease it again. */
  leaseSeconds: z.number().int().min(30).max(3600).default(300),
});
export type LeaseRequest = z.input<typeof LeaseRequest>;

export const OutboundJob = z.object({
  id: z.string(),
  /** Proves the lease on raw reads and results; a stale token's report is refused (409 conflict). */
  leaseToken: z.string(),
  leaseExpiresAt: z.number().int(),
  domain: z.string(),
  mailFrom: z.string(),
  /** The recipients still to deliver in this job. */
  recipients: z.array(z.string()).min(1),
  size: z.number().int(),
  /** 1 for the first try. */
  attempt: z.number().int().min(1),
  submittedAt: z.number().int(),
});
export type OutboundJob = z.infer<typeof OutboundJob>;
export const LeaseResult = z.object({ jobs: z.array(OutboundJob) });
export type LeaseResult = z.infer<typeof LeaseResult>;

export const RecipientOutcome = z.object({
  recipient: z.string(),
  /** delivered: 2xx at the remote MX; deferred: try again later (4xx, no MX reachable, policy); failed: permanent. */
  outcome: z.enum(["delivered", "deferred", "failed"]),
  smtp: z.object({ code: z.number().int(), enhanced: z.string().nullable(), message: z.string().max(1000) }).optional(),
  /** The MX host that answered, or the reason none could be used. */
  mx: z.string().max(253).optional(),
  detail: z.string().max(1000).optional(),
});
export type RecipientOutcome = z.infer<typeof RecipientOutcome>;

/**
 * One TLS session attempt (or the reason none was possible), kept at the edge for TLS-RPT
 * (RFC 8460 §4.3): `result` is "success" or one of the RFC's result types.
 */
export const TlsResultType = z.enum([
  "success",
  "starttls-not-supported",
  "certificate-host-mismatch",
  "certificate-expired",
  "certificate-not-trusted",
  "validation-failure",
  "tlsa-invalid",
  "dnssec-invalid",
  "dane-required",
  "sts-policy-fetch-error",
  "sts-policy-invalid",
  "sts-webpki-invalid",
]);
export type TlsResultType = z.infer<typeof TlsResultType>;
export const TlsSessionResult = z.object({
  /** sts: an MTA-STS policy applied; tlsa: DANE applied; no-policy-found: opportunistic TLS. */
  policyType: z.enum(["sts", "tlsa", "no-policy-found"]),
  /** The recipient domain whose policy applied. */
  policyDomain: z.string().max(253),
  /** RFC 8460 policy-string: the policy lines (MTA-STS) or TLSA records (DANE). */
  policyStrings: z.array(z.string().max(1000)).max(50).default([]),
  mxHost: z.string().max(253),
  receivingIp: z.string().max(64).optional(),
  result: TlsResultType,
  detail: z.string().max(1000).optional(),
});
export type TlsSessionResult = z.input<typeof TlsSessionResult>;

export const DeliveryReport = z.object({
  leaseToken: z.string(),
  results: z.array(RecipientOutcome).min(1).max(1000),
  /** Every TLS session this attempt made or could not make, for TLS-RPT. */
  tls: z.array(TlsSessionResult).max(100).default([]),
});
export type DeliveryReport = z.input<typeof DeliveryReport>;

export const DeliveryReportResult = z.object({
  /** When the deferred recipients will be offered again (ms), null when nothing is left. */
  nextAttemptAt: z.number().int().nullable(),
  /** Recipients given up on (failed, or deferred past the queue lifetime): a DSN went to the sender. */
  bounced: z.array(z.string()),
});
export type DeliveryReportResult = z.infer<typeof DeliveryReportResult>;

/** Test-only: shifts the edge's clock (ALLOW_FAULT_INJECTION only), so retry schedules can be tested. */
export const SetClockRequest = z.object({ offsetMs: z.number().int() });
