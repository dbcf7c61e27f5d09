/**
 * MailboxView: one session's picture of its selected mailbox — the UID of each message
 * sequence number, the flags and mod-sequence last reported to the client, which messages are
 * \Recent to this session, the keywords announced in the last FLAGS response, the saved
 * search result (`$`, RFC 5182) and the highest MODSEQ whose changes were taken in.
 *
 * It is a cache of edge state, built from the edge on SELECT and brought forward with the
 * edge's changes-since-MODSEQ call (see commands/changes.ts); nothing in it must survive the
 * session. Sequence numbers change only when the client is told: an expunge seen while a
 * command that forbids EXPUNGE responses runs (RFC 9051 §7.5.1) waits in `pendingExpunge`,
 * its message keeping its sequence number until it can be reported.
 */
import type { ChangesResult, Mailbox, MailboxSnapshot } from "../../common/contract.ts";
import { expandSequenceSet, uidsInSet, type SequenceSet } from "./protocol/sequence-set.ts";

/** The system flags in the order FLAGS lists them (and Dovecot sorts them in FETCH). */
export const SYSTEM_FLAG_ORDER = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"] as const;

export interface AbsorbedChanges {
  /** UIDs whose flags (or, with CONDSTORE, mod-sequence) changed, ascending. */
  flagChanges: number[];
  /** Messages appended to the view (new EXISTS). */
  added: number;
  /** A keyword appeared that the last FLAGS response did not list. */
  newKeywords: boolean;
}

export class MailboxView {
  mailbox: Mailbox;
  readonly readOnly: boolean;
  /** Every change up to this MODSEQ has been taken into the view. */
  highestModseq: number;
  /** SEARCHRES: the result saved by `SEARCH RETURN (SAVE)`, as UIDs, ascending. */
  saved: number[] = [];
  /*
   * Per message, three parallel arrays by sequence number (UIDs ascending): an IDLE phone on a
   * 10,000-message INBOX must not cost a megabyte of relay memory. Flag sets are interned —
   * a mailbox has few distinct combinations — so each message holds one small number.
   */
  #uids: number[];
  #flagIds: number[];
  #modseqs: number[];
  #flagSets: string[][] = [];
  #flagSetIds = new Map<string, number>();
  #recent: Set<number>;
  #pendingExpunge = new Set<number>();
  #announced: string[];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(snapshot: MailboxSnapshot, readOnly: boolean) {
    this.mailbox = snapshot.mailbox;
    this.readOnly = readOnly;
    this.highestModseq = snapshot.mailbox.highestmodseq;
    const messages = [...snapshot.messages].sort((a, b) => a.uid - b.uid);
    this.#uids = messages.map((m) => m.uid);
    this.#flagIds = messages.map((m) => this.#intern(m.flags));
    this.#modseqs = messages.map((m) => m.modseq);
    // \Recent for this session: what the edge's recent mark had not yet passed when we selected.
    const from = snapshot.recentFromUid ?? snapshot.mailbox.uidnext;
    this.#recent = new Set(this.#uids.filter((uid) => uid >= from && uid < snapshot.mailbox.uidnext));
    this.#announced = this.keywords();
  }

  get exists(): number {
    return this.#uids.length;
  }

  get uids(): readonly number[] {
    return this.#uids;
  }

  get recentCount(): number {
    return this.#recent.size;
  }

  /** UIDs of the messages \Recent to this session, ascending. */
  recentUids(): number[] {
    return this.#uids.filter((uid) => this.#recent.has(uid));
  }

  isRecent(uid: number): boolean {
    return this.#recent.has(uid);
  }

  uidAt(seq: number): number | undefined {
    return this.#uids[seq - 1];
  }

  seqOf(uid: number): number | undefined {
    const i = this.#indexOf(uid);
    return i < 0 ? undefined : i + 1;
  }

  /** UIDs ascend with sequence numbers, so a binary search finds the position; -1 if absent. */
  #indexOf(uid: number): number {
    let lo = 0;
    let hi = this.#uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.#uids[mid]!;
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #intern(flags: string[]): number {
    const key = flags.join(" ");
    let id = this.#flagSetIds.get(key);
    if (id === undefined) {
      id = this.#flagSets.length;
      this.#flagSets.push(flags);
      this.#flagSetIds.set(key, id);
    }
    return id;
  }

  has(uid: number): boolean {
    return this.#indexOf(uid) >= 0;
  }

  flagsOf(uid: number): string[] {
    const i = this.#indexOf(uid);
    return i < 0 ? [] : this.#flagSets[this.#flagIds[i]!]!;
  }

  modseqOf(uid: number): number {
    const i = this.#indexOf(uid);
    return i < 0 ? 0 : this.#modseqs[i]!;
  }

  /** Records flags the client has just been told (or is about to be told) of. */
  setFlags(uid: number, flags: string[], modseq?: number): void {
    const i = this.#indexOf(uid);
    if (i < 0) return;
    this.#flagIds[i] = this.#intern(flags);
    if (modseq !== undefined && modseq > this.#modseqs[i]!) this.#modseqs[i] = modseq;
  }

  /**
   * The flags as the client sees them: system flags in their usual order, then \Recent
   * (IMAP4rev1 sessions only: RFC 9051 has no \Recent), then keywords as stored.
   */
  clientFlags(uid: number, flags: readonly string[], rev2: boolean): string[] {
    const lower = new Map(flags.map((f) => [f.toLowerCase(), f]));
    const out: string[] = [];
    for (const f of SYSTEM_FLAG_ORDER) if (lower.has(f.toLowerCase())) out.push(f);
    if (!rev2 && this.#recent.has(uid)) out.push("\\Recent");
    for (const f of flags) if (!f.startsWith("\\")) out.push(f);
    return out;
  }

  /** Every keyword in use. */
  keywords(): string[] {
    const seen = new Set<string>();
    for (const id of new Set(this.#flagIds)) for (const f of this.#flagSets[id]!) if (!f.startsWith("\\")) seen.add(f);
    return [...seen];
  }

  /** The keywords the last FLAGS response listed (RFC 9051 §7.3.5). */
  get announcedKeywords(): readonly string[] {
    return this.#announced;
  }

  /**
   * Adds the keywords of `flags` the client has not been told of; true when there were any,
   * so a new FLAGS (and PERMANENTFLAGS) response is due before the FETCH that shows them.
   */
  announceKeywords(flags: readonly string[]): boolean {
    let added = false;
    for (const f of flags) {
      if (f.startsWith("\\") || this.#announced.includes(f)) continue;
      this.#announced = [...this.#announced, f];
      added = true;
    }
    return added;
  }

  firstUnseenSeq(): number | null {
    const i = this.#uids.findIndex((uid) => !this.flagsOf(uid).includes("\\Seen"));
    return i < 0 ? null : i + 1;
  }

  /**
   * The UIDs a set names: message sequence numbers, or UIDs for the UID forms of commands.
   * `$` is the saved search result (RFC 5182).
   */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (byUid) return uidsInSet(set, this.#uids, this.saved);
    const saved: number[] = [];
    for (const uid of this.saved) {
      const seq = this.seqOf(uid);
      if (seq !== undefined) saved.push(seq);
    }
    return expandSequenceSet(set, this.#uids.length, { saved }).map((seq) => this.#uids[seq - 1]!);
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
    const keep = (_: number, i: number) => !gone.has(this.#uids[i]!);
    this.#flagIds = this.#flagIds.filter(keep);
    this.#modseqs = this.#modseqs.filter(keep);
    this.#uids = this.#uids.filter((uid) => !gone.has(uid));
    for (const uid of gone) {
      this.#recent.delete(uid);
      this.#pendingExpunge.delete(uid);
    }
    if (this.saved.some((uid) => gone.has(uid))) this.saved = this.saved.filter((uid) => !gone.has(uid));
    return seqs;
  }

  /** Expunged at the edge, not yet reported to the client. */
  get pendingExpunge(): readonly number[] {
    return [...this.#pendingExpunge].sort((a, b) => a - b);
  }

  /**
   * Takes in the edge's changes since `highestModseq`: expunges are queued in
   * `pendingExpunge`, new messages are appended, flag changes recorded. Says what the client
   * must be told (the caller tells it). `condstore`: a change of MODSEQ alone is news too.
   */
  absorb(changes: ChangesResult, condstore: boolean): AbsorbedChanges {
    this.mailbox = changes.mailbox;
    for (const uid of changes.expunged) if (this.has(uid)) this.#pendingExpunge.add(uid);
    const last = this.#uids.length > 0 ? this.#uids[this.#uids.length - 1]! : 0;
    const flagChanges: number[] = [];
    let added = 0;
    let newKeywords = false;
    for (const m of [...changes.messages].sort((a, b) => a.uid - b.uid)) {
      const i = this.#indexOf(m.uid);
      if (i >= 0) {
        if (this.#pendingExpunge.has(m.uid)) continue;
        const knownFlags = this.#flagSets[this.#flagIds[i]!]!;
        const knownModseq = this.#modseqs[i]!;
        const changed = !sameFlags(knownFlags, m.flags) || (condstore && m.modseq > knownModseq);
        if (m.modseq > knownModseq || !sameFlags(knownFlags, m.flags)) {
          this.#flagIds[i] = this.#intern(m.flags);
          this.#modseqs[i] = Math.max(knownModseq, m.modseq);
        }
        if (changed) {
          flagChanges.push(m.uid);
          if (this.announceKeywords(m.flags)) newKeywords = true;
        }
      } else if (m.uid > last && !changes.expunged.includes(m.uid)) {
        this.#uids.push(m.uid);
        this.#flagIds.push(this.#intern(m.flags));
        this.#modseqs.push(m.modseq);
        added++;
        if (this.announceKeywords(m.flags)) newKeywords = true;
      }
    }
    if (changes.mailbox.highestmodseq > this.highestModseq) this.highestModseq = changes.mailbox.highestmodseq;
    return { flagChanges, added, newKeywords };
  }

  /** Runs `task` after every task queued before it: change reports never interleave. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
