/** Blobs and deliveries: storing a message that came in over SMTP, and what the MX found about it. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import type { MessageIndex } from "../mime/index.ts";
import { SearchDate } from "../search.ts";
import { EmailAddress, Sha256Hex } from "./base.ts";

// ---- blobs and deliveries -------------------------------------------------------------

export const BlobStored = z.object({ key: Sha256Hex, size: z.number().int().nonnegative() });
export type BlobStored = z.infer<typeof BlobStored>;

/**
 * The parsed index is produced by common/mime (see MessageIndex). The edge stores it as
 * JSON and serves it back unchanged, so it is checked here only for its outer shape.
 */
export const MessageIndexShape = z
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
