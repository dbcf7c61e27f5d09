/**
 * The relay ⇄ edge contract (DESIGN.md §3): every request and response body of `/relay/v1`,
 * as zod schemas both sides import. Changing a shape here breaks the type check of the
 * worker and the relay at once, which is the point.
 *
 * Authentication: every call carries `Authorization: Bearer <RELAY_KEY>`. Account-scoped
 * calls name the principal in the path (`/relay/v1/accounts/:accountId/...`); the edge
 * scopes every query by that account, so a mailbox or message id of another account is
 * simply not found.
 *
 * Endpoints (all JSON unless said otherwise):
 *   PUT  /relay/v1/blobs/:sha256                 raw message octets → BlobStored       (content-addressed, idempotent)
 *   POST /relay/v1/deliveries                    DeliveryRequest → DeliveryResult      (idempotent by idempotencyKey)
 *   POST /relay/v1/recipients/check              RecipientCheckRequest → RecipientCheckResult
 *   POST /relay/v1/auth                          AuthRequest → AuthResult (401 auth_failed)
 *   GET  /relay/v1/accounts/:a/mailboxes         → MailboxList
 *   POST /relay/v1/accounts/:a/mailboxes/select  SelectRequest → MailboxSnapshot (404 no_such_mailbox)
 *   POST /relay/v1/accounts/:a/mailboxes/:m/messages/fetch   FetchRequest → FetchResult
 *   GET  /relay/v1/accounts/:a/mailboxes/:m/messages/:uid/raw   → octets (honours `Range: bytes=a-b`)
 *   POST /relay/v1/accounts/:a/mailboxes/:m/messages/flags   StoreFlagsRequest → StoreFlagsResult
 *
 * fetch, flags and search also answer the changes feed (`changes`) when the request carries
 * `sinceModseq`, so an IMAP command costs one round trip (see PiggybackSince below).
 *
 * Errors always have the shape of {@link ApiError}.
 */
import { z } from "zod";
import type { MessageIndex } from "./mime/index.ts";
import { SearchDate, SearchKey, SortKey } from "./search.ts";

export const RELAY_API_PREFIX = "/relay/v1";
export const ADMIN_API_PREFIX = "/admin/v1";

/** Lower-case, trimmed addr-spec. Validation is deliberately loose: the SMTP layer already parsed it. */
export const EmailAddress = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@<>]+@[^\s@<>]+$/, "not an address")
  .transform((s) => s.toLowerCase());

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "not a sha-256 hex digest");

// ---- errors ---------------------------------------------------------------------------

export const ErrorCode = z.enum([
  "bad_request",
  "unauthorized",
  "auth_failed",
  "not_found",
  "no_such_mailbox",
  "unknown_recipient",
  "blob_missing",
  "conflict",
  "too_large",
  "unavailable",
  "internal",
  /** A mailbox of that name exists (IMAP ALREADYEXISTS). */
  "already_exists",
  /** The operation can never succeed as asked, e.g. DELETE INBOX (IMAP CANNOT). */
  "cannot",
  /** The target mailbox of APPEND/COPY/MOVE does not exist (IMAP TRYCREATE). */
  "try_create",
  /** The account's storage quota would be exceeded (IMAP OVERQUOTA, SMTP 452 4.2.2). */
  "over_quota",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiError = z.object({
  error: z.object({
    code: ErrorCode,
    /** True when retrying later may succeed (maps to SMTP 4xx, IMAP NO [UNAVAILABLE]). */
    temporary: z.boolean(),
    smtp: z.object({ code: z.number().int(), enhanced: z.string() }).optional(),
    imap: z.string().optional(),
    message: z.string(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

// ---- blobs and deliveries -------------------------------------------------------------

export const BlobStored = z.object({ key: Sha256Hex, size: z.number().int().nonnegative() });
export type BlobStored = z.infer<typeof BlobStored>;

/**
 * The parsed index is produced by common/mime (see MessageIndex). The edge stores it as
 * JSON and serves it back unchanged, so it is checked here only for its outer shape.
 */
const MessageIndexShape = z
  .object({
    size: z.number().int().nonnegative(),
    headerSize: z.number().int().nonnegative(),
    envelope: z.record(z.string(), z.unknown()),
    body: z.record(z.string(), z.unknown()),
  })
  .passthrough()
  .transform((v) => v as unknown as MessageIndex);

/**
 * What SEARCH, SORT and THREAD need of a message, computed once at ingest by
 * common/mime/search-fields.ts (decoding is the relay's work, not the edge's CPU budget).
 */
export const SearchFields = z.object({
  /**
   * Every header field's decoded value folded with foldForSearch, by lower-case field name, in
   * message order (HEADER, FROM, TO, CC, BCC, SUBJECT and TEXT search these). Stored as JSON so
   * SQL can search one field's values (json_each) without a table per field.
   */
  headers: z.record(z.string(), z.array(z.string())),
  /** Decoded, folded text of the message's text parts (what BODY searches), truncated at 1 MiB. */
  body: z.string().max(1024 * 1024),
  /** The Date: header's calendar date in its own zone; null when missing or unparseable. */
  sentDate: SearchDate.nullable(),
  /** The Date: header as ms since the epoch (SORT DATE); null when missing or unparseable. */
  sentAt: z.number().int().nullable(),
  sort: z.object({
    /** RFC 5256 base subject. */
    subject: z.string(),
    /** addr-mailbox of the first From/To/Cc address, lower case (RFC 5256 §3). */
    from: z.string(),
    to: z.string(),
    cc: z.string(),
    /** RFC 5957 display names (fall back to the address). */
    displayFrom: z.string(),
    displayTo: z.string(),
  }),
  thread: z.object({
    messageId: z.string().nullable(),
    inReplyTo: z.string().nullable(),
    references: z.array(z.string()).max(1000),
    /**
     * The first Subject field was a reply or forward (RFC 5256 §2.1: a "Re:"/"Fw:"/"Fwd:"
     * leader, a "(fwd)" trailer or the "[fwd: ...]" wrapper was removed from it), for
     * THREAD=REFERENCES step 5.C. Absent (an older relay): false.
     */
    isReply: z.boolean().default(false),
  }),
});
export type SearchFields = z.infer<typeof SearchFields>;

/** Result keywords as RFC 8601 names them (pass, fail, softfail, neutral, none, temperror, permerror, policy…). */
const AuthKeyword = z.string().min(1).max(20);
export const InboundAuthentication = z.object({
  /** The value of the Authentication-Results field the relay prepended (after "Authentication-Results:"). */
  header: z.string().max(16_000),
  spf: AuthKeyword,
  dkim: AuthKeyword,
  dmarc: AuthKeyword,
  arc: AuthKeyword,
  iprev: AuthKeyword,
  /** The DMARC policy the author domain published (none, quarantine, reject), when there is one. */
  dmarcPolicy: z.string().max(20).nullable(),
  /** The DNSBL zones that list the client IP. */
  dnsbl: z.array(z.string().max(253)).max(20).default([]),
  /** accept: into the recipients' INBOX; quarantine: into their Junk. (reject never reaches the edge.) */
  verdict: z.enum(["accept", "quarantine"]),
  /** The checks that decided a quarantine, e.g. ["dmarc"], for the admin. */
  reasons: z.array(z.string().max(40)).max(10).default([]),
});
export type InboundAuthentication = z.input<typeof InboundAuthentication>;

export const DeliveryRequest = z.object({
  /** Chosen by the relay; a replay with the same key returns the first result and stores nothing. */
  idempotencyKey: z.string().min(8).max(200),
  blob: BlobStored,
  envelope: z.object({
    mailFrom: z.string().max(320), // "" for the null reverse-path
    recipients: z.array(EmailAddress).min(1).max(1000),
  }),
  index: MessageIndexShape,
  /** Absent: the message is found only by non-text keys until re-indexed. */
  search: SearchFields.optional(),
  /** The MX's authentication of the message (absent for mail that did not come in over SMTP). */
  authentication: InboundAuthentication.optional(),
});
/** What the relay sends: the index is the real MessageIndex (the schema only checks its outer shape). */
export type DeliveryRequest = Omit<z.input<typeof DeliveryRequest>, "index"> & { index: MessageIndex };

export const StoredCopy = z.object({
  recipient: z.string(),
  accountId: z.number().int(),
  mailboxId: z.number().int(),
  uid: z.number().int(),
});

export const DeliveryResult = z.object({
  deliveryId: z.string(),
  /** True when this request replayed an idempotency key that had already been committed. */
  duplicate: z.boolean(),
  stored: z.array(StoredCopy),
});
export type DeliveryResult = z.infer<typeof DeliveryResult>;

// ---- recipients and authentication ----------------------------------------------------

export const RecipientCheckRequest = z.object({ address: EmailAddress });
export type RecipientCheckRequest = z.input<typeof RecipientCheckRequest>;

/** What the MX does with mail that fails a check (maddy's reject / quarantine / ignore). */
export const InboundAction = z.enum(["reject", "quarantine", "ignore"]);
export type InboundAction = z.infer<typeof InboundAction>;

/**
 * A domain's actions for incoming mail, per check. "reject" answers 550 5.7.1 at the end of
 * DATA, "quarantine" stores the message in Junk, "ignore" only records the result. When one
 * message has recipients in several of our domains, the strictest action of theirs applies.
 */
export const InboundPolicy = z.object({
  /** DMARC fails and the author domain publishes p=reject (pct applied). */
  dmarcReject: InboundAction.default("reject"),
  /** DMARC fails and the author domain publishes p=quarantine (pct applied). */
  dmarcQuarantine: InboundAction.default("quarantine"),
  /** SPF "fail" (-all) for MAIL FROM (or HELO for the null sender). */
  spfFail: InboundAction.default("quarantine"),
  spfSoftfail: InboundAction.default("ignore"),
  /** Every DKIM signature present fails (a message with none is not a failure). */
  dkimFail: InboundAction.default("ignore"),
  /** The client IP is listed on one of the relay's DNSBL zones. */
  dnsbl: InboundAction.default("reject"),
});
export type InboundPolicy = z.infer<typeof InboundPolicy>;

export const RecipientCheckResult = z.discriminatedUnion("result", [
  /**
   * We take mail for this address: an account (after plus-address, domain-alias and catch-all
   * rewriting: `address` is the canonical one, `accountId` its account) or an alias (`accountId`
   * null). `policy` is the recipient domain's inbound policy.
   */
  z.object({ result: z.literal("local"), accountId: z.number().int().nullable(), address: z.string(), policy: InboundPolicy }),
  z.object({ result: z.literal("unknown_user") }),
  z.object({ result: z.literal("foreign_domain") }),
]);
export type RecipientCheckResult = z.infer<typeof RecipientCheckResult>;

export const AuthRequest = z.object({
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  /** Client IP, for rate limiting and the audit log. */
  remoteAddress: z.string().max(64).optional(),
});
export type AuthRequest = z.input<typeof AuthRequest>;

export const AuthResult = z.object({ accountId: z.number().int(), address: z.string() });
export type AuthResult = z.infer<typeof AuthResult>;

// ---- mailboxes and messages -----------------------------------------------------------

export const SpecialUse = z.enum(["inbox", "sent", "drafts", "junk", "trash", "archive"]);
export type SpecialUse = z.infer<typeof SpecialUse>;

export const Mailbox = z.object({
  id: z.number().int(),
  name: z.string(),
  role: SpecialUse.nullable(),
  subscribed: z.boolean(),
  uidvalidity: z.number().int(),
  uidnext: z.number().int(),
  highestmodseq: z.number().int(),
});
export type Mailbox = z.infer<typeof Mailbox>;

export const MailboxList = z.object({ mailboxes: z.array(Mailbox) });
export type MailboxList = z.infer<typeof MailboxList>;

export const SelectRequest = z.object({
  name: z.string().min(1).max(1000),
  /**
   * SELECT (not EXAMINE): this session takes the \Recent messages — the edge moves the
   * mailbox's recent mark to uidnext in the same statement that reads it (RFC 3501 §2.3.2).
   */
  claimRecent: z.boolean().default(false),
});
export type SelectRequest = z.input<typeof SelectRequest>;

/** A flag or keyword as IMAP spells it (`\Seen`, `$Forwarded`). */
export const Flag = z.string().min(1).max(128).regex(/^\\?[!#$&'+-[^-z|~]+$/, "not a flag");

export const MessageFlags = z.object({ uid: z.number().int(), flags: z.array(z.string()), modseq: z.number().int() });
export type MessageFlags = z.infer<typeof MessageFlags>;

/** Everything SELECT needs in one call: the mailbox and the UID/flags of every message, ascending by UID. */
export const MailboxSnapshot = z.object({
  mailbox: Mailbox,
  messages: z.array(MessageFlags),
  /** Messages with uid >= this are \Recent in this session (uidnext when none are). */
  recentFromUid: z.number().int().default(0),
});
export type MailboxSnapshot = z.infer<typeof MailboxSnapshot>;

export const ChangesRequest = z.object({ sinceModseq: z.number().int().min(0) });
/**
 * Everything that changed after `sinceModseq`: messages added or whose flags changed, and the
 * UIDs expunged since (the edge keeps a tombstone per expunged UID with its modseq, which is
 * also what QRESYNC's VANISHED (EARLIER) needs).
 */
export const ChangesResult = z.object({
  mailbox: Mailbox,
  messages: z.array(MessageFlags),
  expunged: z.array(z.number().int()),
});
export type ChangesResult = z.infer<typeof ChangesResult>;

/**
 * `sinceModseq` on fetch, flags and search: the changes feed rides along (one round trip per
 * IMAP command). When given, the answer's `changes` is exactly what `POST .../changes` would
 * have answered for that `sinceModseq`, computed AFTER the operation (so a flags call's own
 * change is included, as a separate changes call made after it would include it). Absent: no
 * `changes` in the answer.
 */
const PiggybackSince = z.number().int().min(0).optional();

export const FetchRequest = z.object({
  uids: z.array(z.number().int().positive()).max(100_000),
  /** See {@link PiggybackSince}: also answer the changes since this MODSEQ. */
  sinceModseq: PiggybackSince,
});
export type FetchRequest = z.input<typeof FetchRequest>;

export const MessageMeta = z.object({
  uid: z.number().int(),
  modseq: z.number().int(),
  flags: z.array(z.string()),
  internalDate: z.number().int(), // ms since the epoch
  size: z.number().int(),
  index: MessageIndexShape,
});
export type MessageMeta = z.infer<typeof MessageMeta>;

/** Metadata for the requested UIDs that exist (ascending by UID); absent UIDs are left out. */
export const FetchResult = z.object({
  messages: z.array(MessageMeta),
  /** Present when `sinceModseq` was asked: the changes feed's answer, read after the fetch. */
  changes: ChangesResult.optional(),
});
export type FetchResult = z.infer<typeof FetchResult>;

export const StoreFlagsRequest = z.object({
  uids: z.array(z.number().int().positive()).min(1).max(100_000),
  mode: z.enum(["add", "remove", "replace"]),
  flags: z.array(Flag).max(100),
  /** CONDSTORE UNCHANGEDSINCE: messages whose modseq is higher are left alone and listed in `modified`. */
  unchangedSince: z.number().int().min(0).optional(),
  /** See {@link PiggybackSince}: also answer the changes since this MODSEQ (this call's own included). */
  sinceModseq: PiggybackSince,
});
export type StoreFlagsRequest = z.input<typeof StoreFlagsRequest>;

export const StoreFlagsResult = z.object({
  updated: z.array(MessageFlags),
  highestmodseq: z.number().int(),
  /** UIDs that failed the UNCHANGEDSINCE test (RFC 7162 §3.1.3 MODIFIED). */
  modified: z.array(z.number().int()).default([]),
  /** Present when `sinceModseq` was asked: the changes feed's answer, read after the change. */
  changes: ChangesResult.optional(),
});
export type StoreFlagsResult = z.infer<typeof StoreFlagsResult>;

// ---- mailbox management, changes, expunge, copy/move, append, search, quota --------------
//
//   POST /relay/v1/accounts/:a/mailboxes                 CreateMailboxRequest → Mailbox (409 already_exists)
//   POST /relay/v1/accounts/:a/mailboxes/delete          MailboxNameRequest → {} (404 no_such_mailbox, 400 cannot: INBOX or has children)
//   POST /relay/v1/accounts/:a/mailboxes/rename          RenameMailboxRequest → {} (children move along; INBOX: messages move, INBOX stays)
//   POST /relay/v1/accounts/:a/mailboxes/subscribe       SubscribeRequest → {} (a name that does not exist may be subscribed)
//   POST /relay/v1/accounts/:a/mailboxes/status          StatusRequest → StatusResult
//   GET  /relay/v1/accounts/:a/subscriptions             → SubscriptionList
//   POST /relay/v1/accounts/:a/mailboxes/:m/changes      ChangesRequest → ChangesResult (defined above: fetch,
//                                                        flags and search carry it too, given `sinceModseq`)
//   POST /relay/v1/accounts/:a/mailboxes/:m/messages/expunge  ExpungeRequest → ExpungeResult
//   POST /relay/v1/accounts/:a/mailboxes/:m/messages/copy     CopyRequest → CopyResult (404 try_create, 422 over_quota)
//   POST /relay/v1/accounts/:a/mailboxes/append          AppendRequest → AppendResult (404 try_create, 422 over_quota)
//   POST /relay/v1/accounts/:a/mailboxes/:m/messages/search   SearchRequest → SearchResult
//   GET  /relay/v1/accounts/:a/quota                     → QuotaResult

export const MailboxName = z.string().min(1).max(1000);

export const CreateMailboxRequest = z.object({ name: MailboxName, specialUse: SpecialUse.exclude(["inbox"]).optional() });
export type CreateMailboxRequest = z.input<typeof CreateMailboxRequest>;

export const MailboxNameRequest = z.object({ name: MailboxName });
export const RenameMailboxRequest = z.object({ from: MailboxName, to: MailboxName });
export const SubscribeRequest = z.object({ name: MailboxName, subscribed: z.boolean() });
export const SubscriptionList = z.object({ names: z.array(z.string()) });
export type SubscriptionList = z.infer<typeof SubscriptionList>;

export const MailboxStatus = Mailbox.extend({
  messages: z.number().int(),
  unseen: z.number().int(),
  deleted: z.number().int(),
  /** Sum of RFC822.SIZE (STATUS=SIZE). */
  size: z.number().int(),
  /** Sum of RFC822.SIZE of the \\Deleted messages: what EXPUNGE would free (RFC 9208 DELETED-STORAGE). */
  deletedSize: z.number().int(),
  /** Messages with uid >= the recent mark (not claimed by STATUS). */
  recent: z.number().int(),
});
export type MailboxStatus = z.infer<typeof MailboxStatus>;

/** Without names: every mailbox of the account (LIST-STATUS). */
export const StatusRequest = z.object({ names: z.array(MailboxName).max(10_000).optional() });
export type StatusRequest = z.input<typeof StatusRequest>;
export const StatusResult = z.object({ mailboxes: z.array(MailboxStatus) });
export type StatusResult = z.infer<typeof StatusResult>;

/** Expunges the \Deleted messages, only among `uids` when given (UID EXPUNGE). */
export const ExpungeRequest = z.object({ uids: z.array(z.number().int().positive()).max(100_000).optional() });
export type ExpungeRequest = z.input<typeof ExpungeRequest>;
export const ExpungeResult = z.object({ expunged: z.array(z.number().int()), highestmodseq: z.number().int() });
export type ExpungeResult = z.infer<typeof ExpungeResult>;

export const CopyRequest = z.object({
  uids: z.array(z.number().int().positive()).min(1).max(100_000),
  target: MailboxName,
  /** MOVE: copy and expunge from the source in one transaction (RFC 6851). */
  move: z.boolean().default(false),
});
export type CopyRequest = z.input<typeof CopyRequest>;
/** `mapping` is [source uid, new uid] in ascending source order (COPYUID, RFC 4315). */
export const CopyResult = z.object({
  uidvalidity: z.number().int(),
  mapping: z.array(z.tuple([z.number().int(), z.number().int()])),
  /** The source mailbox's highestmodseq after a MOVE expunged from it. */
  highestmodseq: z.number().int(),
});
export type CopyResult = z.infer<typeof CopyResult>;

export const AppendMessage = z.object({
  blob: BlobStored,
  index: MessageIndexShape,
  search: SearchFields.optional(),
  flags: z.array(Flag).max(100).default([]),
  /** ms since the epoch; default now. */
  internalDate: z.number().int().optional(),
});
/** MULTIAPPEND (RFC 3502): all messages are stored in one transaction, or none. */
export const AppendRequest = z.object({ name: MailboxName, messages: z.array(AppendMessage).min(1).max(1000) });
export type AppendRequest = Omit<z.input<typeof AppendRequest>, "messages"> & {
  messages: (Omit<z.input<typeof AppendMessage>, "index"> & { index: MessageIndex })[];
};
export const AppendResult = z.object({ mailboxId: z.number().int(), uidvalidity: z.number().int(), uids: z.array(z.number().int()) });
export type AppendResult = z.infer<typeof AppendResult>;

export const SearchRequest = z.object({
  criteria: SearchKey,
  /** SORT: the order of the returned UIDs; ties are broken by UID (RFC 5256 §3). Absent: ascending UID. */
  sort: z.array(SortKey).max(10).optional(),
  /** THREAD: also return each match's threading keys. */
  threadKeys: z.boolean().default(false),
  /** See {@link PiggybackSince}: also answer the changes since this MODSEQ. */
  sinceModseq: PiggybackSince,
});
export type SearchRequest = z.input<typeof SearchRequest>;

export const ThreadKeys = z.object({
  uid: z.number().int(),
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  baseSubject: z.string(),
  /** The subject was a reply or forward (SearchFields.thread.isReply; false for a message stored without search fields). */
  isReply: z.boolean(),
  /** Sent date, falling back to the internal date (RFC 5256 §2.2). */
  date: z.number().int(),
});
export type ThreadKeys = z.infer<typeof ThreadKeys>;

export const SearchResult = z.object({
  uids: z.array(z.number().int()),
  /** The highest modseq among the matches (CONDSTORE SEARCH response), null when none. */
  highestModseq: z.number().int().nullable(),
  threadKeys: z.array(ThreadKeys).optional(),
  /** Present when `sinceModseq` was asked: the changes feed's answer, read after the search. */
  changes: ChangesResult.optional(),
});
export type SearchResult = z.infer<typeof SearchResult>;

export const QuotaResult = z.object({
  /** Octets used: the sum of RFC822.SIZE over all messages of the account. */
  usage: z.number().int(),
  /** Octets allowed; null = unlimited. */
  limit: z.number().int().nullable(),
});
export type QuotaResult = z.infer<typeof QuotaResult>;

// ---- admin API (Authorization: Bearer <ADMIN_TOKEN>) -----------------------------------

export const MtaStsMode = z.enum(["enforce", "testing", "none"]);

export const CreateDomainRequest = z.object({
  name: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "not a domain name"),
  mtaSts: z
    .object({
      mode: MtaStsMode.default("testing"),
      mx: z.array(z.string().min(1).max(253)).min(1).max(20),
      maxAge: z.number().int().min(86400).max(31557600).default(604800),
    })
    .optional(),
});
export type CreateDomainRequest = z.input<typeof CreateDomainRequest>;

export const Domain = z.object({
  id: z.number().int(),
  name: z.string(),
  mtaSts: z.object({ mode: MtaStsMode, mx: z.array(z.string()), maxAge: z.number().int(), policyId: z.string() }).nullable(),
});
export type Domain = z.infer<typeof Domain>;

export const CreateAccountRequest = z.object({
  address: EmailAddress,
  password: z.string().min(8).max(1024),
});
export type CreateAccountRequest = z.input<typeof CreateAccountRequest>;

export const Account = z.object({
  id: z.number().int(),
  address: z.string(),
  domainId: z.number().int(),
  mailboxes: z.array(z.object({ name: z.string(), role: SpecialUse.nullable() })).optional(),
});
export type Account = z.infer<typeof Account>;

/** PUT /admin/v1/accounts/:id/quota: the storage limit in octets, null for none. */
export const SetQuotaRequest = z.object({ storageBytes: z.number().int().min(0).nullable() });
export type SetQuotaRequest = z.input<typeof SetQuotaRequest>;

/** A blob in R2 that no message row references: garbage left by a delivery that failed before its D1 batch. */
export const OrphanBlob = z.object({ key: z.string(), size: z.number().int(), uploaded: z.string() });
export const OrphanBlobList = z.object({ orphans: z.array(OrphanBlob) });
export type OrphanBlobList = z.infer<typeof OrphanBlobList>;

/**
 * Test-only fault injection, honoured only when the worker runs with ALLOW_FAULT_INJECTION = "1"
 * (never in wrangler.toml): arms a named failure point for the next `count` requests that reach it.
 */
export const FaultPoint = z.enum(["deliveries.afterBlobCheck"]);
export const ArmFaultRequest = z.object({ point: FaultPoint, count: z.number().int().min(1).max(100).default(1) });
export type ArmFaultRequest = z.input<typeof ArmFaultRequest>;

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

// ---- DKIM keys ------------------------------------------------------------------------
//
//   GET /relay/v1/domains/:domain/dkim     → DkimSigningKeys (private keys: the relay signs, never stores them)
//   GET /admin/v1/domains/:domain/dkim     → DkimPublicKeys (what DNS must publish)
//
// Every domain gets a 2048-bit RSA key and an ed25519 key when it is created (RFC 8463 dual
// signing); a domain without keys (created before keys existed) gets them on first read.

export const DkimAlgorithm = z.enum(["rsa-sha256", "ed25519-sha256"]);
export type DkimAlgorithm = z.infer<typeof DkimAlgorithm>;

export const DkimSigningKey = z.object({
  selector: z.string().min(1).max(63),
  algorithm: DkimAlgorithm,
  /** PKCS#8 PEM. */
  privateKeyPem: z.string(),
});
export type DkimSigningKey = z.infer<typeof DkimSigningKey>;
export const DkimSigningKeys = z.object({ domain: z.string(), keys: z.array(DkimSigningKey) });
export type DkimSigningKeys = z.infer<typeof DkimSigningKeys>;

export const DkimPublicKey = z.object({
  selector: z.string(),
  algorithm: DkimAlgorithm,
  /** `<selector>._domainkey.<domain>` */
  dnsName: z.string(),
  /** The TXT record value, e.g. `v=DKIM1; k=rsa; p=MIIB…` (unsplit; DNS tooling splits it into 255-byte strings). */
  dnsValue: z.string(),
  createdAt: z.number().int(),
});
export type DkimPublicKey = z.infer<typeof DkimPublicKey>;
export const DkimPublicKeys = z.object({ domain: z.string(), keys: z.array(DkimPublicKey) });
export type DkimPublicKeys = z.infer<typeof DkimPublicKeys>;

/** Admin: `GET /admin/v1/tls-results?domain=` — stored TLS session results (TLS-RPT input), newest first. */
export const StoredTlsResult = z.object({
  policyType: z.enum(["sts", "tlsa", "no-policy-found"]),
  policyDomain: z.string(),
  policyStrings: z.array(z.string()),
  mxHost: z.string(),
  receivingIp: z.string().nullable(),
  result: TlsResultType,
  detail: z.string().nullable(),
  jobId: z.string(),
  at: z.number().int(),
});
export type StoredTlsResult = z.infer<typeof StoredTlsResult>;
export const TlsResultList = z.object({ results: z.array(StoredTlsResult) });
export type TlsResultList = z.infer<typeof TlsResultList>;

// ---- domain settings and aliases (admin) ----------------------------------------------
//
//   PATCH  /admin/v1/domains/:domain        DomainSettingsUpdate → DomainWithSettings
//   GET    /admin/v1/domains/:domain        → DomainWithSettings
//   POST   /admin/v1/aliases                CreateAliasRequest → 201 Alias (409 if it exists or is an account)
//   GET    /admin/v1/aliases?domain=        → AliasList
//   DELETE /admin/v1/aliases/:address       → 204 (404 unknown)
//   GET    /admin/v1/deliveries/:deliveryId → StoredDelivery (envelope, authentication results)
//   GET    /admin/v1/deliveries?domain=&verdict=&dmarc=  → StoredDeliveryList (newest first, ≤ 500)
//
// Addresses are resolved at the edge at RCPT time, in this order: exact account; alias;
// `postmaster@` of any of our domains (→ the domain's postmaster alias or, without one, its
// oldest account); plus-addressing (`user+tag@` → `user@`, delimiter per domain, "" = off);
// domain alias (`user@mirror` → `user@target`); catch-all. Changes apply to the next RCPT.

export const DomainSettings = z.object({
  plusDelimiter: z.string().max(5).regex(/^[^@\s]*$/).default("+"),
  /** Account that receives mail for unknown local parts; null: unknown users get 550 5.1.1. */
  catchAll: EmailAddress.nullable().default(null),
  /** This domain mirrors another of ours (`user@this` → `user@aliasOf`); null: it has its own users. */
  aliasOf: z.string().max(253).nullable().default(null),
  inbound: InboundPolicy.default(InboundPolicy.parse({})),
});
export type DomainSettings = z.infer<typeof DomainSettings>;
export const DomainSettingsUpdate = z.object({
  plusDelimiter: DomainSettings.shape.plusDelimiter.unwrap().optional(),
  catchAll: EmailAddress.nullable().optional(),
  aliasOf: z.string().max(253).nullable().optional(),
  // Spelled out: zod's partial() would fill every omitted check with its default.
  inbound: z
    .object({
      dmarcReject: InboundAction.optional(),
      dmarcQuarantine: InboundAction.optional(),
      spfFail: InboundAction.optional(),
      spfSoftfail: InboundAction.optional(),
      dkimFail: InboundAction.optional(),
      dnsbl: InboundAction.optional(),
    })
    .optional(),
});
export type DomainSettingsUpdate = z.input<typeof DomainSettingsUpdate>;
export const DomainWithSettings = Domain.extend({ settings: DomainSettings });
export type DomainWithSettings = z.infer<typeof DomainWithSettings>;

export const CreateAliasRequest = z.object({
  address: EmailAddress,
  /** Accounts of ours or external addresses (forwarded through the outbound queue with SRS). */
  targets: z.array(EmailAddress).min(1).max(100),
});
export type CreateAliasRequest = z.input<typeof CreateAliasRequest>;
export const Alias = z.object({ address: z.string(), targets: z.array(z.string()), createdAt: z.number().int() });
export type Alias = z.infer<typeof Alias>;
export const AliasList = z.object({ aliases: z.array(Alias) });

export const StoredDelivery = z.object({
  deliveryId: z.string(),
  mailFrom: z.string(),
  recipients: z.array(z.string()),
  authentication: InboundAuthentication.nullable(),
  /** Where each copy went (account address and mailbox name), and the external targets queued. */
  copies: z.array(z.object({ address: z.string(), mailbox: z.string() })),
  forwarded: z.array(z.string()),
  createdAt: z.number().int(),
});
export type StoredDelivery = z.infer<typeof StoredDelivery>;
export const StoredDeliveryList = z.object({ deliveries: z.array(StoredDelivery) });
