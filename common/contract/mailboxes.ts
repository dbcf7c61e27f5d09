/** Mailboxes and messages: listing, SELECT snapshots, FETCH metadata, STORE flags. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { MessageIndexShape } from "./deliveries.ts";

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
export const PiggybackSince = z.number().int().min(0).optional();

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
