/**
 * MailStore: everything the IMAP server may ask of storage. The protocol layer touches
 * storage only through this interface; its one implementation is the edge client
 * (relay/edge/client.ts), so IMAP state lives at the edge and never in relay memory.
 */
import type { Readable } from "node:stream";
import type {
  AppendRequest,
  AppendResult,
  AuthRequest,
  AuthResult,
  ChangesResult,
  CopyRequest,
  CopyResult,
  CreateMailboxRequest,
  ExpungeResult,
  Mailbox,
  QuotaResult,
  SearchRequest,
  SearchResult,
  StatusResult,
  SubscriptionList,
  FetchResult,
  MailboxList,
  MailboxSnapshot,
  StoreFlagsRequest,
  StoreFlagsResult,
} from "../../common/contract.ts";
import type { ByteRange } from "../edge/client.ts";

export interface MailStore {
  authenticate(request: AuthRequest): Promise<AuthResult>;
  listMailboxes(accountId: number): Promise<MailboxList>;
  selectMailbox(accountId: number, name: string, claimRecent?: boolean): Promise<MailboxSnapshot>;
  createMailbox(accountId: number, request: CreateMailboxRequest): Promise<Mailbox>;
  deleteMailbox(accountId: number, name: string): Promise<void>;
  renameMailbox(accountId: number, from: string, to: string): Promise<void>;
  subscribe(accountId: number, name: string, subscribed: boolean): Promise<void>;
  listSubscriptions(accountId: number): Promise<SubscriptionList>;
  mailboxStatus(accountId: number, names?: string[]): Promise<StatusResult>;
  changes(accountId: number, mailboxId: number, sinceModseq: number): Promise<ChangesResult>;
  expunge(accountId: number, mailboxId: number, uids?: number[]): Promise<ExpungeResult>;
  copyMessages(accountId: number, mailboxId: number, request: CopyRequest): Promise<CopyResult>;
  /** Blobs are uploaded first with putBlob, as for deliveries. */
  putBlob(sha256: string, raw: Uint8Array): Promise<{ key: string; size: number }>;
  append(accountId: number, request: AppendRequest): Promise<AppendResult>;
  /** `request.sinceModseq`: the changes feed since it rides along in `changes` (read after the search). */
  search(accountId: number, mailboxId: number, request: SearchRequest): Promise<SearchResult>;
  quota(accountId: number): Promise<QuotaResult>;
  /** `sinceModseq`: the changes feed since it rides along in `changes` (read after the fetch). */
  fetchMessages(accountId: number, mailboxId: number, uids: number[], sinceModseq?: number): Promise<FetchResult>;
  /** `request.sinceModseq`: the changes feed since it rides along in `changes` (read after the change, so it includes it). */
  storeFlags(accountId: number, mailboxId: number, request: StoreFlagsRequest): Promise<StoreFlagsResult>;
  openMessage(accountId: number, mailboxId: number, uid: number, range?: ByteRange): Promise<Readable>;
  readMessageRange(accountId: number, mailboxId: number, uid: number, range: ByteRange): Promise<Buffer>;
}
