/**
 * Leaving and cleaning the selected mailbox: EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3,
 * RFC 4315 UIDPLUS), CLOSE (§6.4.2), UNSELECT (RFC 3691) and CHECK (RFC 3501 §6.4.1).
 *
 * What a client may rely on:
 * - EXPUNGE removes every \Deleted message of the mailbox, UID EXPUNGE only those among the
 *   given UIDs, in one edge call; the ones this session knows are reported as `n EXPUNGE`
 *   (highest first) or, after ENABLE QRESYNC, one `VANISHED` (commands/changes.ts);
 * - once CONDSTORE is on, the tagged OK carries [HIGHESTMODSEQ n], sent only after every
 *   change up to n was reported (so the client may keep it, RFC 7162);
 * - CLOSE expunges silently (no untagged EXPUNGE) when the mailbox is read-write, and leaves
 *   the selected state even if the expunge fails (it then answers NO with the reason);
 * - UNSELECT leaves it without expunging; CHECK does nothing but answer OK (nothing of
 *   ours is ever unsaved);
 * - an EXAMINEd (read-only) mailbox refuses EXPUNGE with NO [READ-ONLY].
 */
import type { ImapConnection } from "../connection.ts";
import type { MailboxView } from "../mailbox-view.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import { condstoreActive } from "../session.ts";
import { reportExpunged, reportMailboxChanges } from "./changes.ts";
import { edgeCall } from "./edge-errors.ts";
import { principalOf, selectedOf } from "./state.ts";
import type { CommandResult, CommandSpec } from "./types.ts";

/**
 * Reports messages this session removed (EXPUNGE, MOVE) and returns the tagged OK's response
 * code: HIGHESTMODSEQ once CONDSTORE is on (after catching up with every other change, so the
 * value is safe for the client to keep), otherwise none.
 */
export async function reportOwnExpunges(conn: ImapConnection, view: MailboxView, uids: readonly number[]): Promise<string | null> {
  await view.exclusive(async () => {
    if (conn.state.kind === "selected" && conn.state.view === view) await reportExpunged(conn, uids);
  });
  if (!condstoreActive(conn)) return null;
  await reportMailboxChanges(conn);
  return `HIGHESTMODSEQ ${view.highestModseq}`;
}

function requireWritable(view: MailboxView): void {
  if (view.readOnly) throw new ImapProtocolError("NO", "Mailbox is read-only", { code: "READ-ONLY" });
}

export const expunge: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }): Promise<CommandResult> {
    const set = byUid ? args.sequenceSet("a UID set") : null;
    args.end();
    const { principal, view } = selectedOf(conn);
    requireWritable(view);
    let uids: number[] | undefined;
    if (set) {
      uids = view.resolve(set, true);
      if (uids.length === 0) return { text: "Expunge completed." };
    }
    const result = await edgeCall(conn.store.expunge(principal.accountId, view.mailbox.id, uids));
    if (result.expunged.length > 0) conn.changes.publish({ accountId: principal.accountId, mailboxId: view.mailbox.id });
    const code = await reportOwnExpunges(conn, view, result.expunged);
    return { text: "Expunge completed.", code };
  },
};

export const close: CommandSpec = {
  states: ["selected"],
  async run({ args, conn }) {
    args.end();
    const { principal, view } = selectedOf(conn);
    conn.state = { kind: "authenticated", principal };
    if (!view.readOnly) {
      const result = await edgeCall(conn.store.expunge(principal.accountId, view.mailbox.id));
      if (result.expunged.length > 0) conn.changes.publish({ accountId: principal.accountId, mailboxId: view.mailbox.id });
    }
    return { text: "Close completed." };
  },
};

export const unselect: CommandSpec = {
  states: ["selected"],
  async run({ args, conn }) {
    args.end();
    conn.state = { kind: "authenticated", principal: principalOf(conn) };
    return { text: "Unselect completed." };
  },
};

export const check: CommandSpec = {
  states: ["selected"],
  async run({ args }) {
    args.end();
    return { text: "Check completed." };
  },
};
