/**
 * SORT and UID SORT (RFC 5256 §3, with RFC 5957's DISPLAYFROM/DISPLAYTO): `SORT (REVERSE DATE)
 * UTF-8 ALL` → `* SORT 5 3 4 1 2`. The criteria are parsed and resolved like SEARCH's; the edge
 * sorts (ties broken by UID, as RFC 5256 asks by sequence number, which is the same order).
 */
import type { SortKey } from "../../../common/search.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import { checkCharset, parseSearch } from "../search/parse.ts";
import { reportMailboxChanges } from "./changes.ts";
import { requiredCharset, restOf, searchContext } from "./search.ts";
import type { CommandSpec } from "./types.ts";

const SORT_KEYS: Record<string, SortKey["key"]> = {
  ARRIVAL: "arrival",
  CC: "cc",
  DATE: "date",
  FROM: "from",
  SIZE: "size",
  SUBJECT: "subject",
  TO: "to",
  DISPLAYFROM: "displayfrom",
  DISPLAYTO: "displayto",
};

export const sort: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const criteria = args.list("sort criteria");
    const sortKeys = parseSortCriteria(criteria.map((t) => (t.type === "atom" ? t.value : "")));
    requiredCharset(args, checkCharset);
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    const parsed = parseSearch(restOf(args), searchContext(view), { charsetGiven: true });
    const result = await conn.store.search(principal.accountId, view.mailbox.id, {
      criteria: parsed.criteria,
      sort: sortKeys,
      sinceModseq: view.highestModseq,
    });
    const uids = result.uids.filter((uid) => view.has(uid));
    const numbers = byUid ? uids : uids.map((uid) => view.seqOf(uid)!);
    await conn.send(`* SORT${numbers.map((n) => ` ${n}`).join("")}\r\n`);
    await reportMailboxChanges(conn, { expunges: byUid, changes: result.changes });
    return { text: "Sort completed." };
  },
};

/** `(REVERSE DATE SUBJECT)` → [{ key: "date", reverse: true }, { key: "subject", reverse: false }]. */
export function parseSortCriteria(words: readonly string[]): SortKey[] {
  const keys: SortKey[] = [];
  let reverse = false;
  for (const word of words) {
    const upper = word.toUpperCase();
    if (upper === "REVERSE") {
      if (reverse) throw new ImapProtocolError("BAD", "REVERSE REVERSE in sort criteria");
      reverse = true;
      continue;
    }
    const key = SORT_KEYS[upper];
    if (!key) throw new ImapProtocolError("BAD", "Unknown sort criterion");
    keys.push({ key, reverse });
    reverse = false;
  }
  if (reverse) throw new ImapProtocolError("BAD", "REVERSE must be followed by a sort key");
  if (keys.length === 0) throw new ImapProtocolError("BAD", "Empty sort criteria");
  return keys;
}
