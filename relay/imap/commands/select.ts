/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3; RFC 3501 §6.3.1 for IMAP4rev1 sessions) with
 * CONDSTORE and QRESYNC (RFC 7162 §3.1.8, §3.2.5). One edge call fetches the mailbox and every
 * message's UID, flags and MODSEQ, and — for SELECT, not EXAMINE — claims the \Recent
 * messages for this session; the session keeps all of it as its MailboxView.
 *
 * Selecting closes the mailbox selected before, whether or not the new one opens, and says so
 * with `* OK [CLOSED]` (RFC 9051 §7.1, RFC 7162 §3.2.11). With `(QRESYNC (uidvalidity modseq
 * [known-uids]))` and a matching UIDVALIDITY, the UIDs expunged since that MODSEQ come as
 * `* VANISHED (EARLIER)` and the messages changed since as FETCH (UID FLAGS MODSEQ).
 */
import type { SpecialUse } from "../../../common/contract.ts";
import { HIERARCHY_DELIMITER, mailboxNameFromWire, mailboxNameToWire } from "../mailbox-names.ts";
import { MailboxView, SYSTEM_FLAG_ORDER } from "../mailbox-view.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Token } from "../protocol/parser.ts";
import { formatSequenceSet, parseSequenceSet, type SequenceSet } from "../protocol/sequence-set.ts";
import { untagged, untaggedParts } from "../protocol/writer.ts";
import { enableCondstore, isRev2, qresyncActive } from "../session.ts";
import { flagsFetch, sendFlags } from "./changes.ts";
import type { CommandContext, CommandResult, CommandSpec } from "./types.ts";

export const SYSTEM_FLAGS: string[] = [...SYSTEM_FLAG_ORDER];

interface QresyncParams {
  uidvalidity: number;
  modseq: number;
  knownUids: SequenceSet | null;
}

const ROLE_ATTRIBUTE: Record<SpecialUse, string | null> = {
  inbox: null,
  sent: "\\Sent",
  drafts: "\\Drafts",
  junk: "\\Junk",
  trash: "\\Trash",
  archive: "\\Archive",
};

async function open(ctx: CommandContext, readOnly: boolean): Promise<CommandResult> {
  const { conn, args } = ctx;
  const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
  const params = parseSelectParams(args.optionalList());
  args.end();
  if (conn.state.kind !== "authenticated" && conn.state.kind !== "selected") throw new Error("unreachable");
  if (params.qresync && !qresyncActive(conn)) throw new ImapProtocolError("BAD", "QRESYNC parameter needs ENABLE QRESYNC first");
  if (params.condstore || params.qresync) enableCondstore(conn);

  const principal = conn.state.principal;
  const wasSelected = conn.state.kind === "selected";
  conn.state = { kind: "authenticated", principal };
  if (wasSelected) await conn.send(untagged("OK [CLOSED] Previous mailbox closed."));

  const snapshot = await conn.store.selectMailbox(principal.accountId, name, !readOnly);
  const view = new MailboxView(snapshot, readOnly);
  const rev2 = isRev2(conn);
  await sendFlags(conn, view);
  await conn.send(untagged(`${view.exists} EXISTS`));
  if (!rev2) {
    await conn.send(untagged(`${view.recentCount} RECENT`));
    const unseen = view.firstUnseenSeq();
    if (unseen !== null) await conn.send(untagged(`OK [UNSEEN ${unseen}] First unseen.`));
  }
  await conn.send(untagged(`OK [UIDVALIDITY ${view.mailbox.uidvalidity}] UIDs valid`));
  await conn.send(untagged(`OK [UIDNEXT ${view.mailbox.uidnext}] Predicted next UID`));
  // We keep MODSEQ for every mailbox, so HIGHESTMODSEQ always goes out (RFC 7162 §3.1.2.1), never NOMODSEQ.
  await conn.send(untagged(`OK [HIGHESTMODSEQ ${view.highestModseq}] Highest`));
  if (rev2) {
    const special = view.mailbox.role ? ROLE_ATTRIBUTE[view.mailbox.role] : null;
    await conn.send(untaggedParts([`LIST (${special ?? ""}) "${HIERARCHY_DELIMITER}" `, mailboxNameToWire(conn, view.mailbox.name)]));
  }
  conn.state = { kind: "selected", principal, view };

  const q = params.qresync;
  if (q && q.uidvalidity === view.mailbox.uidvalidity) {
    const changes = await conn.store.changes(principal.accountId, view.mailbox.id, q.modseq);
    const gone = changes.expunged.filter(
      (uid) => !view.has(uid) && uid < view.mailbox.uidnext && (q.knownUids === null || inUidSet(q.knownUids, uid)),
    );
    if (gone.length > 0) await conn.send(untagged(`VANISHED (EARLIER) ${formatSequenceSet(gone)}`));
    for (const [i, uid] of view.uids.entries()) {
      if (view.modseqOf(uid) > q.modseq) await conn.send(flagsFetch(conn, view, i + 1, uid, true));
    }
  }
  return { text: `${readOnly ? "Examine" : "Select"} completed.`, code: readOnly ? "READ-ONLY" : "READ-WRITE" };
}

/** `(CONDSTORE)`, `(QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]))`. */
function parseSelectParams(list: Token[] | null): { condstore: boolean; qresync: QresyncParams | null } {
  const result: { condstore: boolean; qresync: QresyncParams | null } = { condstore: false, qresync: null };
  if (list === null) return result;
  for (let i = 0; i < list.length; i++) {
    const token = list[i]!;
    const name = token.type === "atom" ? token.value.toUpperCase() : "";
    if (name === "CONDSTORE") {
      result.condstore = true;
    } else if (name === "QRESYNC") {
      const value = list[++i];
      if (value?.type !== "list") throw new ImapProtocolError("BAD", "QRESYNC needs a parenthesized list");
      result.qresync = parseQresync(value.items);
    } else {
      throw new ImapProtocolError("BAD", "Unknown SELECT parameter");
    }
  }
  return result;
}

function parseQresync(items: Token[]): QresyncParams {
  const number = (token: Token | undefined, what: string, allowZero: boolean): number => {
    if (token?.type !== "atom" || !/^[0-9]{1,19}$/.test(token.value)) throw new ImapProtocolError("BAD", `QRESYNC: invalid ${what}`);
    const n = Number(token.value);
    if (!Number.isSafeInteger(n) || (!allowZero && n === 0)) throw new ImapProtocolError("BAD", `QRESYNC: invalid ${what}`);
    return n;
  };
  if (items.length < 2 || items.length > 4) throw new ImapProtocolError("BAD", "QRESYNC: expected (uidvalidity modseq [known-uids [seq-match-data]])");
  const uidvalidity = number(items[0], "UIDVALIDITY", false);
  const modseq = number(items[1], "mod-sequence", true);
  let knownUids: SequenceSet | null = null;
  const known = items[2];
  if (known !== undefined) {
    if (known.type !== "atom") throw new ImapProtocolError("BAD", "QRESYNC: invalid known-uids");
    knownUids = parseSequenceSet(known.value);
    if (knownUids.items.some((item) => item.kind === "saved")) throw new ImapProtocolError("BAD", "QRESYNC: invalid known-uids");
  }
  const match = items[3];
  if (match !== undefined) {
    // seq-match-data only helps servers that forget expunges; we keep every tombstone, so it is checked and ignored.
    if (match.type !== "list" || match.items.length !== 2 || match.items.some((t) => t.type !== "atom")) {
      throw new ImapProtocolError("BAD", "QRESYNC: invalid sequence match data");
    }
    for (const t of match.items) if (t.type === "atom") parseSequenceSet(t.value);
  }
  return { uidvalidity, modseq, knownUids };
}

function inUidSet(set: SequenceSet, uid: number): boolean {
  return set.items.some((item) => {
    if (item.kind !== "range") return false;
    const a = item.from === "*" ? Number.MAX_SAFE_INTEGER : item.from;
    const b = item.to === "*" ? Number.MAX_SAFE_INTEGER : item.to;
    return uid >= Math.min(a, b) && uid <= Math.max(a, b);
  });
}

export const select: CommandSpec = {
  states: ["authenticated", "selected"],
  run: (ctx) => open(ctx, false),
};

export const examine: CommandSpec = {
  states: ["authenticated", "selected"],
  run: (ctx) => open(ctx, true),
};
