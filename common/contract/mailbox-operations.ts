/** Mailbox management, changes feed, expunge, copy/move, append, search, quota. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import type { MessageIndex } from "../mime/index.ts";
import { SearchKey, SortKey } from "../search.ts";
import { BlobStored, MessageIndexShape, SearchFields } from "./deliveries.ts";
import { ChangesResult, Flag, Mailbox, PiggybackSince, SpecialUse } from "./mailboxes.ts";

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
