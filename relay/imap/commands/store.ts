/**
 * STORE and UID STORE (RFC 9051 §6.4.6): one edge call changes the flags of every message in
 * the set; unless .SILENT, each changed message's new flags are sent back as FETCH.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { flagList, untagged } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

const MODES = { "+FLAGS": "add", "-FLAGS": "remove", FLAGS: "replace" } as const;

export const store: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const set = args.sequenceSet();
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
    }
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    if (view.readOnly) throw new ImapProtocolError("NO", "Mailbox is read-only", { code: "READ-ONLY" });
    const uids = view.resolve(set, byUid);
    if (uids.length === 0) return { text: "Store completed." };
    const result = await conn.store.storeFlags(principal.accountId, view.mailbox.id, { uids, mode, flags });
    const changed = new Map(result.updated.map((u) => [u.uid, u.flags]));
    for (const uid of uids) {
      const seq = view.seqOf(uid);
      const next = changed.get(uid);
      if (next) view.setFlags(uid, next);
      // Silent suppresses only the echo of our own change (RFC 9051 §6.4.6).
      if (seq === undefined || silent) continue;
      const flagsNow = next ?? view.flagsOf(uid);
      await conn.send(untagged(`${seq} FETCH (${byUid ? `UID ${uid} ` : ""}FLAGS ${flagList(flagsNow)})`));
    }
    return { text: "Store completed." };
  },
};

function isSystemFlag(flag: string): boolean {
  return ["\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft"].includes(flag.toLowerCase());
}
