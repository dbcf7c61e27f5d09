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
 * Errors always have the shape of {@link ApiError}.
 */
import { z } from "zod";
import type { MessageIndex } from "./mime/index.ts";

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

export const DeliveryRequest = z.object({
  /** Chosen by the relay; a replay with the same key returns the first result and stores nothing. */
  idempotencyKey: z.string().min(8).max(200),
  blob: BlobStored,
  envelope: z.object({
    mailFrom: z.string().max(320), // "" for the null reverse-path
    recipients: z.array(EmailAddress).min(1).max(1000),
  }),
  index: MessageIndexShape,
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

export const RecipientCheckResult = z.discriminatedUnion("result", [
  z.object({ result: z.literal("local"), accountId: z.number().int(), address: z.string() }),
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

export const SelectRequest = z.object({ name: z.string().min(1).max(1000) });
export type SelectRequest = z.input<typeof SelectRequest>;

/** A flag or keyword as IMAP spells it (`\Seen`, `$Forwarded`). */
export const Flag = z.string().min(1).max(128).regex(/^\\?[!#$&'+-[^-z|~]+$/, "not a flag");

export const MessageFlags = z.object({ uid: z.number().int(), flags: z.array(z.string()), modseq: z.number().int() });
export type MessageFlags = z.infer<typeof MessageFlags>;

/** Everything SELECT needs in one call: the mailbox and the UID/flags of every message, ascending by UID. */
export const MailboxSnapshot = z.object({ mailbox: Mailbox, messages: z.array(MessageFlags) });
export type MailboxSnapshot = z.infer<typeof MailboxSnapshot>;

export const FetchRequest = z.object({ uids: z.array(z.number().int().positive()).max(100_000) });
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
export const FetchResult = z.object({ messages: z.array(MessageMeta) });
export type FetchResult = z.infer<typeof FetchResult>;

export const StoreFlagsRequest = z.object({
  uids: z.array(z.number().int().positive()).min(1).max(100_000),
  mode: z.enum(["add", "remove", "replace"]),
  flags: z.array(Flag).max(100),
});
export type StoreFlagsRequest = z.input<typeof StoreFlagsRequest>;

export const StoreFlagsResult = z.object({ updated: z.array(MessageFlags), highestmodseq: z.number().int() });
export type StoreFlagsResult = z.infer<typeof StoreFlagsResult>;

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
