/**
 * ChangeFeed: how a session learns that its mailbox changed without asking. Everything in
 * this relay that changes a mailbox (SMTP delivery, APPEND, COPY/MOVE, STORE, EXPUNGE)
 * publishes here, so IDLE sessions on this relay hear of it at once; changes made through
 * other relays reach them by polling the edge's changes-since-MODSEQ call (see IDLE), so the
 * feed is an accelerator, never the source of truth.
 */
import { EventEmitter } from "node:events";

export interface MailboxChange {
  accountId: number;
  /** null when the mailbox is not known to the publisher (e.g. a delivery to INBOX by address). */
  mailboxId: number | null;
}

export class ChangeFeed {
  readonly #events = new EventEmitter();

  constructor() {
    // Thousands of idle sessions may listen to one account; that is expected, not a leak.
    this.#events.setMaxListeners(0);
  }

  publish(change: MailboxChange): void {
    this.#events.emit(`account:${change.accountId}`, change);
  }

  /** Calls `listener` for every change of the account; returns the unsubscribe function. */
  subscribe(accountId: number, listener: (change: MailboxChange) => void): () => void {
    const name = `account:${accountId}`;
    this.#events.on(name, listener);
    return () => this.#events.off(name, listener);
  }
}
