/**
 * MailStore: everything the IMAP server may ask of storage. The protocol layer touches
 * storage only through this interface; its one implementation is the edge client
 * (relay/edge/client.ts), so IMAP state lives at the edge and never in relay memory.
 */
import type { Readable } from "node:stream";
import type {
  AuthRequest,
  AuthResult,
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
  selectMailbox(accountId: number, name: string): Promise<MailboxSnapshot>;
  fetchMessages(accountId: number, mailboxId: number, uids: number[]): Promise<FetchResult>;
  storeFlags(accountId: number, mailboxId: number, request: StoreFlagsRequest): Promise<StoreFlagsResult>;
  openMessage(accountId: number, mailboxId: number, uid: number, range?: ByteRange): Promise<Readable>;
  readMessageRange(accountId: number, mailboxId: number, uid: number, range: ByteRange): Promise<Buffer>;
}
