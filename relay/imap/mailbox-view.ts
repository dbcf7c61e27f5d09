/**
 * MailboxView: one session's picture of its selected mailbox — the UID of each message
 * sequence number and the flags last reported to the client. It is a cache of edge state,
 * rebuilt from the edge on SELECT and refreshed on NOOP; nothing in it must survive the
 * session.
 */
import type { Mailbox, MailboxSnapshot, MessageFlags } from "../../common/contract.ts";
import { expandSequenceSet, uidsInSet, type SequenceSet } from "./protocol/sequence-set.ts";

export interface ViewChanges {
  /** Sequence numbers to report as EXPUNGEd, in the order to send them. */
  expunged: number[];
  /** The new EXISTS count, when it changed. */
  exists: number | null;
  /** Messages whose flags changed: [seq, uid, flags]. */
  flagChanges: [number, number, string[]][];
}

export class MailboxView {
  mailbox: Mailbox;
  readonly readOnly: boolean;
  #uids: number[];
  #flags: Map<number, string[]>;

  constructor(snapshot: MailboxSnapshot, readOnly: boolean) {
    this.mailbox = snapshot.mailbox;
    this.readOnly = readOnly;
    this.#uids = snapshot.messages.map((m) => m.uid);
    this.#flags = new Map(snapshot.messages.map((m) => [m.uid, m.flags]));
  }

  get exists(): number {
    return this.#uids.length;
  }

  get uids(): readonly number[] {
    return this.#uids;
  }

  uidAt(seq: number): number | undefined {
    return this.#uids[seq - 1];
  }

  seqOf(uid: number): number | undefined {
    // UIDs ascend with sequence numbers, so a binary search finds the position.
    let lo = 0;
    let hi = this.#uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.#uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  flagsOf(uid: number): string[] {
    return this.#flags.get(uid) ?? [];
  }

  setFlags(uid: number, flags: string[]): void {
    if (this.#flags.has(uid)) this.#flags.set(uid, flags);
  }

  /** Every keyword in use, for the FLAGS response. */
  keywords(): string[] {
    const seen = new Set<string>();
    for (const flags of this.#flags.values()) for (const f of flags) if (!f.startsWith("\\")) seen.add(f);
    return [...seen];
  }

  firstUnseenSeq(): number | null {
    const i = this.#uids.findIndex((uid) => !this.flagsOf(uid).includes("\\Seen"));
    return i < 0 ? null : i + 1;
  }

  /** The UIDs a set names: message sequence numbers, or UIDs for the UID forms of commands. */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (byUid) return uidsInSet(set, this.#uids);
    return expandSequenceSet(set, this.#uids.length).map((seq) => this.#uids[seq - 1]!);
  }

  /**
   * Drops expunged messages and returns their sequence numbers, highest first: sent in that
   * order, each number is still right when the client applies it (RFC 9051 §7.5.1).
   */
  remove(uids: readonly number[]): number[] {
    const gone = new Set(uids);
    const seqs: number[] = [];
    for (let i = this.#uids.length - 1; i >= 0; i--) if (gone.has(this.#uids[i]!)) seqs.push(i + 1);
    if (seqs.length === 0) return seqs;
    this.#uids = this.#uids.filter((uid) => !gone.has(uid));
    for (const uid of gone) this.#flags.delete(uid);
    return seqs;
  }

  /** Brings the view up to a newer snapshot and says what the client must be told. */
  update(snapshot: MailboxSnapshot): ViewChanges {
    const next = new Set(snapshot.messages.map((m) => m.uid));
    const expunged: number[] = [];
    // Report from the highest sequence number down so earlier numbers stay valid (RFC 9051 §7.5.1).
    for (let i = this.#uids.length - 1; i >= 0; i--) {
      if (!next.has(this.#uids[i]!)) expunged.push(i + 1);
    }
    const before = this.#uids.length - expunged.length;
    const byUid = new Map<number, MessageFlags>(snapshot.messages.map((m) => [m.uid, m]));
    this.mailbox = snapshot.mailbox;
    this.#uids = snapshot.messages.map((m) => m.uid);
    const flagChanges: [number, number, string[]][] = [];
    const nextFlags = new Map<number, string[]>();
    this.#uids.forEach((uid, i) => {
      const flags = byUid.get(uid)!.flags;
      const old = this.#flags.get(uid);
      if (old && !sameFlags(old, flags)) flagChanges.push([i + 1, uid, flags]);
      nextFlags.set(uid, flags);
    });
    this.#flags = nextFlags;
    return { expunged, exists: this.#uids.length !== before ? this.#uids.length : null, flagChanges };
  }
}

function sameFlags(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
