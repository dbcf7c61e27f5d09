/**
 * Reporting other sessions' changes to the selected mailbox: EXPUNGE, EXISTS and FETCH FLAGS,
 * at the points RFC 9051 §7.5.2 allows (after NOOP and other commands that are not FETCH,
 * STORE or SEARCH by sequence number).
 */
import type { ImapConnection } from "../connection.ts";
import { flagList, untagged } from "../protocol/writer.ts";

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
