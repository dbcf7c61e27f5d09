/**
 * STORE and UID STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3):
 * one edge call changes the flags of every message in the set (and brings back the changes
 * feed since the view's MODSEQ, reported at the end); unless .SILENT, each
 * message's new flags are sent back as FETCH (with MODSEQ once CONDSTORE is active). Messages
 * changed since UNCHANGEDSINCE are left alone and named in `OK [MODIFIED set]`.
 *
 * A keyword the client has not been told of is announced first with FLAGS and
 * PERMANENTFLAGS, as Dovecot does. \Recent can never be stored.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { formatSequenceSet } from "../protocol/sequence-set.ts";
import { enableCondstore } from "../session.ts";
import { flagsFetch, reportMailboxChanges, sendFlags } from "./changes.ts";
import type { CommandSpec } from "./types.ts";

const MODES = { "+FLAGS": "add", "-FLAGS": "remove", FLAGS: "replace" } as const;

export const store: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const set = args.sequenceSet();
    let unchangedSince: number | undefined;
    const modifiers = args.optionalList();
    if (modifiers) {
      const name = modifiers[0]?.type === "atom" ? modifiers[0].value.toUpperCase() : "";
      const value = modifiers[1];
      if (name !== "UNCHANGEDSINCE" || value?.type !== "atom" || !/^[0-9]{1,19}$/.test(value.value) || modifiers.length !== 2) {
        throw new ImapProtocolError("BAD", "Invalid STORE modifier");
      }
      unchangedSince = Number(value.value);
      if (!Number.isSafeInteger(unchangedSince)) throw new ImapProtocolError("BAD", "UNCHANGEDSINCE value too large");
    }
    const action = args.atom().toUpperCase();
    const silent = action.endsWith(".SILENT");
    const mode = MODES[(silent ? action.slice(0, -".SILENT".length) : action) as keyof typeof MODES];
    if (!mode) throw new ImapProtocolError("BAD", `Invalid STORE action ${action.slice(0, 30)}`);
    const flags: string[] = [];
    const tokens = args.peek()?.type === "list" ? args.list() : null;
    if (tokens) {
      for (const t of tokens) {
        if (t.type !== "atom") throw new ImapProtocolError("BAD", "Flags must be atoms");
        flags.push(t.value);
      }
    } else {
      while (args.remaining() > 0) flags.push(args.atom());
    }
    args.end();
    for (const f of flags) {
      if (f.toLowerCase() === "\\recent") throw new ImapProtocolError("BAD", "\\Recent cannot be stored");
      if (f.startsWith("\\") && !isSystemFlag(f)) throw new ImapProtocolError("BAD", `Unknown system flag ${f}`);
      if (!/^\\?[!#$&'+-[^-z|~]+$/.test(f) || f.length > 128) throw new ImapProtocolError("BAD", "Invalid flag");
    }
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    if (view.readOnly) throw new ImapProtocolError("NO", "Mailbox is read-only", { code: "READ-ONLY" });
    if (unchangedSince !== undefined) enableCondstore(conn);
    const uids = view.resolve(set, byUid);
    if (uids.length === 0) {
      await reportMailboxChanges(conn, { expunges: byUid });
      return { text: "Store completed." };
    }
    const result = await conn.store.storeFlags(principal.accountId, view.mailbox.id, {
      uids,
      mode,
      flags: flags.map(canonicalFlag),
      ...(unchangedSince !== undefined ? { unchangedSince } : {}),
      sinceModseq: view.highestModseq,
    });
    conn.changes.publish({ accountId: principal.accountId, mailboxId: view.mailbox.id });
    const updated = new Map(result.updated.map((u) => [u.uid, u]));
    const modified = new Set(result.modified);
    if (view.announceKeywords(result.updated.flatMap((u) => u.flags))) await sendFlags(conn, view);
    for (const uid of uids) {
      const seq = view.seqOf(uid);
      const next = updated.get(uid);
      if (next) view.setFlags(uid, next.flags, next.modseq);
      // Silent suppresses only the echo of our own change (RFC 9051 §6.4.6); a message that
      // failed UNCHANGEDSINCE was not changed, so there is nothing to echo (RFC 7162 §3.1.3).
      if (seq === undefined || silent || modified.has(uid)) continue;
      await conn.send(flagsFetch(conn, view, seq, uid, byUid));
    }
    await reportMailboxChanges(conn, { expunges: byUid, changes: result.changes });
    if (modified.size > 0) {
      const named = byUid ? [...modified] : [...modified].map((uid) => view.seqOf(uid)).filter((s) => s !== undefined);
      return { text: "Conditional STORE failed", code: `MODIFIED ${formatSequenceSet(named)}` };
    }
    return { text: "Store completed." };
  },
};

function isSystemFlag(flag: string): boolean {
  return ["\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft"].includes(flag.toLowerCase());
}

/** System flags are case-insensitive; store them as RFC 9051 spells them. */
function canonicalFlag(flag: string): string {
  if (!flag.startsWith("\\")) return flag;
  const lower = flag.toLowerCase();
  return lower.charAt(0) + lower.charAt(1).toUpperCase() + lower.slice(2);
}
