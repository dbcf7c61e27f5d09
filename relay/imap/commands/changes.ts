/**
 * Reporting other sessions' changes to the selected mailbox: EXPUNGE, EXISTS and FETCH FLAGS,
 * at the points RFC 9051 §7.5.2 allows (after NOOP and other commands that are not FETCH,
 * STORE or SEARCH by sequence number).
 */
import type { ImapConnection } from "../connection.ts";
import { flagList, untagged } from "../protocol/writer.ts";
import { formatSequenceSet } from "../protocol/sequence-set.ts";

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

export async function reportMailboxChanges(conn: ImapConnection): Promise<void> {
  const state = conn.state;
  if (state.kind !== "selected") return;
  const snapshot = await conn.store.selectMailbox(state.principal.accountId, state.view.mailbox.name);
  const changes = state.view.update(snapshot);
  for (const seq of changes.expunged) await conn.send(untagged(`${seq} EXPUNGE`));
  if (changes.exists !== null) await conn.send(untagged(`${changes.exists} EXISTS`));
  for (const [seq, uid, flags] of changes.flagChanges) {
    await conn.send(untagged(`${seq} FETCH (UID ${uid} FLAGS ${flagList(flags)})`));
  }
}
