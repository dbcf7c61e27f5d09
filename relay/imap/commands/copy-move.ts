/**
 * COPY and UID COPY (RFC 9051 §6.4.7), MOVE and UID MOVE (RFC 6851): one edge call copies
 * (and for MOVE, in the same transaction, expunges) every message of the set.
 *
 * What a client may rely on:
 * - COPY answers `OK [COPYUID uidvalidity source-uids new-uids]` (RFC 4315), the two sets
 *   paired by position;
 * - MOVE sends `* OK [COPYUID ...]` first, then the source messages' EXPUNGE responses (or
 *   one VANISHED after ENABLE QRESYNC), then the tagged OK (RFC 6851 §4.3); with CONDSTORE
 *   on, the tagged OK carries [HIGHESTMODSEQ n];
 * - a target that does not exist → NO [TRYCREATE]; over quota → NO [OVERQUOTA]; nothing is
 *   copied or moved then;
 * - MOVE from a read-only (EXAMINEd) mailbox → NO [READ-ONLY];
 * - copying or moving into the selected mailbox itself reports the new messages (EXISTS).
 */
import { mailboxNameFromWire } from "../mailbox-names.ts";
import { untaggedStatus } from "../protocol/writer.ts";
import { condstoreActive } from "../session.ts";
import { reportMailboxChanges } from "./changes.ts";
import { edgeCall } from "./edge-errors.ts";
import { reportOwnExpunges } from "./expunge.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import { selectedOf } from "./state.ts";
import type { CommandSpec } from "./types.ts";
import { uidList } from "./uid-list.ts";

function copyOrMove(move: boolean): CommandSpec {
  const done = move ? "Move completed." : "Copy completed.";
  return {
    states: ["selected"],
    async run({ args, conn, byUid }) {
      const set = args.sequenceSet(byUid ? "a UID set" : "a sequence set");
      const target = mailboxNameFromWire(conn, args.astring("a mailbox name"));
      args.end();
      const { principal, view } = selectedOf(conn);
      if (move && view.readOnly) throw new ImapProtocolError("NO", "Mailbox is read-only", { code: "READ-ONLY" });
      const uids = view.resolve(set, byUid);
      if (uids.length === 0) return { text: done };
      const { accountId } = principal;
      const result = await edgeCall(conn.store.copyMessages(accountId, view.mailbox.id, { uids, target, move }), { target: true });
      conn.changes.publish({ accountId, mailboxId: null });
      const copyuid =
        result.mapping.length > 0
          ? `COPYUID ${result.uidvalidity} ${uidList(result.mapping.map(([s]) => s))} ${uidList(result.mapping.map(([, d]) => d))}`
          : null;
      const intoItself = target === view.mailbox.name;
      if (!move) {
        if (intoItself) await reportMailboxChanges(conn);
        return { text: done, code: copyuid };
      }
      conn.changes.publish({ accountId, mailboxId: view.mailbox.id });
      if (copyuid) await conn.send(untaggedStatus("OK", "Moved UIDs.", copyuid));
      const code = await reportOwnExpunges(
        conn,
        view,
        result.mapping.map(([s]) => s),
      );
      if (intoItself && !condstoreActive(conn)) await reportMailboxChanges(conn);
      return { text: done, code };
    },
  };
}

export const copy = copyOrMove(false);
export const move = copyOrMove(true);
