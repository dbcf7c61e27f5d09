/**
 * Read-ahead for FETCH of many bodies: while one message's octets are being written, the
 * byte ranges of the next few are already being opened at the edge, so a FETCH 1:* BODY[]
 * waits for one edge round trip at the start, not one per message. Streams are opened, not
 * read: HTTP flow control keeps each at a few kilobytes until its turn, so memory stays
 * bounded by the window.
 */
import type { Readable } from "node:stream";
import type { ByteRange } from "../../edge/client.ts";
import type { MailStore } from "../mail-store.ts";

export interface PlannedRead extends ByteRange {
  uid: number;
}

const key = (r: PlannedRead) => `${r.uid}:${r.start}:${r.end}`;

export class BodyReadAhead {
  readonly #store: MailStore;
  readonly #accountId: number;
  readonly #mailboxId: number;
  readonly #plan: PlannedRead[];
  readonly #window: number;
  readonly #opened = new Map<string, Promise<Readable>>();
  #next = 0;

  /** `plan`: every range the FETCH will stream, in the order it will ask for them. */
  constructor(store: MailStore, accountId: number, mailboxId: number, plan: PlannedRead[], window = 8) {
    this.#store = store;
    this.#accountId = accountId;
    this.#mailboxId = mailboxId;
    this.#plan = plan;
    this.#window = window;
  }

  /** The stream for one range: the one opened ahead when it was planned, else a fresh one. */
  open(read: PlannedRead): Promise<Readable> {
    const k = key(read);
    const ready = this.#opened.get(k);
    this.#opened.delete(k);
    const at = this.#plan.findIndex((p, i) => i >= this.#next && key(p) === k);
    if (at >= 0) this.#next = at + 1;
    this.#fill();
    return ready ?? this.#start(read);
  }

  /** Drops streams opened ahead that will not be read (the FETCH failed or ended early). */
  close(): void {
    for (const pending of this.#opened.values()) pending.then((s) => s.destroy(), () => {});
    this.#opened.clear();
  }

  #fill(): void {
    for (let i = this.#next; i < this.#plan.length && i < this.#next + this.#window; i++) {
      const read = this.#plan[i]!;
      const k = key(read);
      if (this.#opened.has(k)) continue;
      const pending = this.#start(read);
      pending.catch(() => {}); // surfaces when (if) the FETCH gets to it
      this.#opened.set(k, pending);
    }
  }

  #start(read: PlannedRead): Promise<Readable> {
    return this.#store.openMessage(this.#accountId, this.#mailboxId, read.uid, { start: read.start, end: read.end });
  }
}
