/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH (RFC 4731: `RETURN (MIN MAX ALL COUNT
 * SAVE)`), SEARCHRES (RFC 5182: SAVE and `$`) and CONDSTORE's MODSEQ key (RFC 7162 §3.1.5).
 * The relay parses and resolves the criteria (search/parse.ts); the edge runs them in one
 * call, which also brings back the changes feed reported at the end (one round trip). IMAP4rev2
 * sessions always get the ESEARCH form (RFC 9051 §6.4.4).
 *
 * Matches the client has not been told of yet (new mail not yet announced with EXISTS) are
 * left out: a result must only name messages the client knows.
 */
import type { ChangesResult } from "../../../common/contract.ts";
import type { MailboxView } from "../mailbox-view.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Args, Token } from "../protocol/parser.ts";
import { parseSearch, type SearchContext } from "../search/parse.ts";
import { esearchResponse, savedResult, searchResponse } from "../search/response.ts";
import { enableCondstore, isRev2 } from "../session.ts";
import { reportMailboxChanges } from "./changes.ts";
import type { CommandSpec } from "./types.ts";

export const search: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid, tag }) {
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    const tokens = restOf(args);
    let saving = requestsSave(tokens);
    let changes: ChangesResult | undefined;
    try {
      const parsed = parseSearch(tokens, searchContext(view), { allowReturn: true });
      saving = parsed.returnOptions?.has("SAVE") ?? false;
      if (parsed.modseq) enableCondstore(conn);
      const result = await conn.store.search(principal.accountId, view.mailbox.id, {
        criteria: parsed.criteria,
        sinceModseq: view.highestModseq,
      });
      changes = result.changes;
      const uids = result.uids.filter((uid) => view.has(uid)).sort((a, b) => a - b);
      const numbers = byUid ? uids : uids.map((uid) => view.seqOf(uid)!);
      const modseq = parsed.modseq ? result.highestModseq : null;
      if (parsed.returnOptions !== null || isRev2(conn)) {
        const options = parsed.returnOptions ?? new Set(["ALL" as const]);
        const line = esearchResponse(tag, byUid, options, numbers, modseq);
        if (line !== null) await conn.send(line);
        if (saving) view.saved = savedResult(options, uids);
      } else {
        await conn.send(searchResponse(numbers, modseq));
      }
    } catch (err) {
      // A failed SEARCH ... RETURN (SAVE) leaves `$` empty (RFC 5182 §2.1).
      if (saving) view.saved = [];
      throw err;
    }
    await reportMailboxChanges(conn, { expunges: byUid, changes });
    return { text: "Search completed." };
  },
};

/** The session's side of a search: sequence numbers, \Recent, `$`. */
export function searchContext(view: MailboxView): SearchContext {
  return { uids: view.uids, recent: view.recentUids(), saved: view.saved };
}

/** Every argument left, as tokens. */
export function restOf(args: Args): Token[] {
  const tokens: Token[] = [];
  while (args.remaining() > 0) tokens.push(args.next());
  return tokens;
}

/** `RETURN (... SAVE ...)` at the start, found even when the rest fails to parse. */
function requestsSave(tokens: readonly Token[]): boolean {
  const [first, second] = tokens;
  return (
    first?.type === "atom" &&
    first.value.toUpperCase() === "RETURN" &&
    second?.type === "list" &&
    second.items.some((t) => t.type === "atom" && t.value.toUpperCase() === "SAVE")
  );
}

/** For SORT and THREAD: the charset they require (RFC 5256 §3), checked. */
export function requiredCharset(args: Args, checkCharset: (name: string) => void): void {
  const token = args.peek();
  if (token === undefined) throw new ImapProtocolError("BAD", "Missing charset");
  const name = args.astringText("a charset");
  checkCharset(name);
}
