/**
 * Reporting changes to the selected mailbox — other sessions' and other relays' as much as
 * this session's own — as EXPUNGE (or VANISHED), EXISTS, FLAGS and FETCH responses, at the
 * points RFC 9051 §7.5.1 allows: EXPUNGE never while a FETCH, STORE or SEARCH by sequence
 * number runs (their UID forms may), nor when no command is in progress (except IDLE).
 *
 * The source of truth is the edge's changes feed, `changes(mailbox, sinceModseq)`: everything
 * that changed after the view's highest MODSEQ. FETCH, STORE, SEARCH, SORT and THREAD get it
 * piggybacked on their own edge call (`sinceModseq` in the request, `changes` in the answer),
 * so a command costs one round trip; the others (NOOP, IDLE, EXPUNGE, ...) ask for it here.
 * Reports for one view never interleave (IDLE's poll, the change feed and the command in
 * progress may all ask at once).
 */
import type { ChangesResult } from "../../../common/contract.ts";
import type { ImapConnection } from "../connection.ts";
import { SYSTEM_FLAG_ORDER, type MailboxView } from "../mailbox-view.ts";
import { flagList, untagged } from "../protocol/writer.ts";
import { formatSequenceSet } from "../protocol/sequence-set.ts";
import { condstoreActive, isRev2 } from "../session.ts";

/**
 * Tells the client that messages of the selected mailbox are gone (after EXPUNGE, CLOSE-less
 * expunges, MOVE, or another session's expunge): `VANISHED uids` once QRESYNC is enabled
 * (RFC 7162 §3.2.10), otherwise one `n EXPUNGE` per message.
 */
export async function reportExpunged(conn: ImapConnection, uids: readonly number[]): Promise<void> {
  const state = conn.state;
  if (state.kind !== "selected" || uids.length === 0) return;
  const present = uids.filter((uid) => state.view.seqOf(uid) !== undefined);
  const seqs = state.view.remove(present);
  if (seqs.length === 0) return;
  if (conn.enabled.has("QRESYNC")) {
    await conn.send(untagged(`VANISHED ${formatSequenceSet([...present].sort((a, b) => a - b))}`));
    return;
  }
  for (const seq of seqs) await conn.send(untagged(`${seq} EXPUNGE`));
}

export interface ReportOptions {
  /**
   * False while a FETCH, STORE or SEARCH (or SORT/THREAD) by sequence number runs: expunges
   * found then wait in the view until a point where they may be sent (RFC 9051 §7.5.1).
   */
  expunges?: boolean;
  /**
   * The changes feed as the command's own edge call already answered it (asked with the view's
   * `highestModseq` as `sinceModseq`): used instead of asking the edge again. Undefined: ask.
   */
  changes?: ChangesResult | undefined;
}

/** Tells the client what changed since the view's MODSEQ: from `options.changes`, or by asking the edge. */
export async function reportMailboxChanges(conn: ImapConnection, options: ReportOptions = {}): Promise<void> {
  const state = conn.state;
  if (state.kind !== "selected") return;
  const { view, principal } = state;
  const current = () => conn.state.kind === "selected" && conn.state.view === view && !conn.closed;
  const supplied = options.changes?.mailbox.id === view.mailbox.id ? options.changes : undefined;
  await view.exclusive(async () => {
    if (!current()) return;
    const changes = supplied ?? (await conn.store.changes(principal.accountId, view.mailbox.id, view.highestModseq));
    if (!current()) return;
    // Supplied changes may be older than a report that ran meanwhile (IDLE's poll, the change
    // feed): when they reach no further than the view already does, they hold nothing new.
    const stale = supplied !== undefined && supplied.mailbox.highestmodseq <= view.highestModseq;
    const absorbed = stale ? { added: 0, newKeywords: false, flagChanges: [] } : view.absorb(changes, condstoreActive(conn));
    if ((options.expunges ?? true) && view.pendingExpunge.length > 0) await reportExpunged(conn, view.pendingExpunge);
    // The client works out the count after EXPUNGE itself; only new messages need EXISTS.
    if (absorbed.added > 0) await conn.send(untagged(`${view.exists} EXISTS`));
    if (absorbed.newKeywords) await sendFlags(conn, view);
    for (const uid of absorbed.flagChanges) {
      const seq = view.seqOf(uid);
      if (seq !== undefined) await conn.send(flagsFetch(conn, view, seq, uid, true));
    }
  });
}

/** Expunges held back during a sequence-number command, sent at the next allowed point. */
export async function reportPendingExpunges(conn: ImapConnection): Promise<void> {
  const state = conn.state;
  if (state.kind !== "selected") return;
  const view = state.view;
  await view.exclusive(async () => {
    if (conn.state.kind !== "selected" || conn.state.view !== view) return;
    if (view.pendingExpunge.length > 0) await reportExpunged(conn, view.pendingExpunge);
  });
}

/** `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]`: on SELECT, and when a new keyword appears. */
export async function sendFlags(conn: ImapConnection, view: MailboxView): Promise<void> {
  const flags = [...SYSTEM_FLAG_ORDER, ...view.announcedKeywords];
  await conn.send(untagged(`FLAGS ${flagList(flags)}`));
  if (view.readOnly) await conn.send(untagged("OK [PERMANENTFLAGS ()] Read-only mailbox."));
  else await conn.send(untagged(`OK [PERMANENTFLAGS ${flagList([...flags, "\\*"])}] Flags permitted.`));
}

/**
 * `* seq FETCH (UID n FLAGS (...) MODSEQ (m))` for a message whose flags the view holds;
 * MODSEQ once CONDSTORE is active (RFC 7162 §3.1.4), UID when asked or CONDSTORE is active.
 */
export function flagsFetch(conn: ImapConnection, view: MailboxView, seq: number, uid: number, withUid: boolean): Buffer {
  const condstore = condstoreActive(conn);
  const parts: string[] = [];
  if (withUid || condstore) parts.push(`UID ${uid}`);
  parts.push(`FLAGS ${flagList(view.clientFlags(uid, view.flagsOf(uid), isRev2(conn)))}`);
  if (condstore) parts.push(`MODSEQ (${view.modseqOf(uid)})`);
  return untagged(`${seq} FETCH (${parts.join(" ")})`);
}
