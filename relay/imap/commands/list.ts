/**
 * LIST (RFC 9051 §6.3.9) with the extended syntax of RFC 5258 (LIST-EXTENDED), RFC 5819
 * (LIST-STATUS), RFC 6154 (SPECIAL-USE) and RFC 3348/5258 child attributes; and LSUB
 * (RFC 3501 §6.3.9, kept for IMAP4rev1 clients).
 *
 *   LIST [(selection options)] reference (pattern | (pattern ...)) [RETURN (return options)]
 *
 * Selection options: SUBSCRIBED, REMOTE (no remote mailboxes here: accepted, changes nothing),
 * RECURSIVEMATCH (only with another selection option, else BAD), SPECIAL-USE. Return options:
 * SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS (items). Unknown options are BAD.
 *
 * What a client may rely on:
 * - one edge call for the mailboxes (plus one for subscriptions when they matter, plus one
 *   for every mailbox's counters with RETURN (STATUS ...)), made together;
 * - `*` matches anything, `%` anything but "/"; INBOX (as the first level) matches in any case;
 * - every existing mailbox carries \HasChildren or \HasNoChildren and its special-use
 *   attribute, whether or not asked (both are allowed unasked);
 * - a level that is not a mailbox but has mailboxes below it is returned for a pattern
 *   ending in `%`, as \Noselect (plain LIST) or \NonExistent (extended LIST, IMAP4rev2);
 *   a subscribed name without a mailbox is \NonExistent;
 * - with RECURSIVEMATCH, a matching name with descendants that meet the selection criteria
 *   carries ("CHILDINFO" (criteria)), and is returned even when it does not meet them itself;
 * - with RETURN (STATUS ...), a `* STATUS` line follows the LIST line of every selectable mailbox;
 * - `LIST "" ""` answers the delimiter and the root: `* LIST (\Noselect) "/" ""`.
 */
import type { Mailbox, MailboxStatus, SpecialUse } from "../../../common/contract.ts";
import type { ImapConnection } from "../connection.ts";
import {
  ancestorsOf,
  canonicalMailboxName,
  decodeWireName,
  HIERARCHY_DELIMITER,
  mailboxNameToWire,
} from "../mailbox-names.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Args, Token } from "../protocol/parser.ts";
import { untaggedParts } from "../protocol/writer.ts";
import { isRev2 } from "../session.ts";
import { edgeCall } from "./edge-errors.ts";
import { principalOf } from "./state.ts";
import { parseStatusItems, statusResponse, type StatusItem } from "./status.ts";
import type { CommandSpec } from "./types.ts";

export { HIERARCHY_DELIMITER };

const roleAttribute: Record<SpecialUse, string | null> = {
  inbox: null,
  sent: "\\Sent",
  drafts: "\\Drafts",
  junk: "\\Junk",
  trash: "\\Trash",
  archive: "\\Archive",
};

export function specialUseAttribute(role: SpecialUse | null): string | null {
  return role ? roleAttribute[role] : null;
}

// ---- patterns ---------------------------------------------------------------------------

const STAR = -1;
const PERCENT = -2;
const SLASH = HIERARCHY_DELIMITER.charCodeAt(0);

/**
 * A matcher for one canonical pattern (reference and pattern joined): `*` matches any run of
 * characters, `%` any run without the delimiter, everything else itself; when the name's
 * first level is INBOX, that level matches case-insensitively (RFC 9051 §6.3.9).
 *
 * Dynamic programming over (pattern position, name position), so no pattern can make it
 * backtrack exponentially the way a regular expression could.
 */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    const t = c === 0x2a ? STAR : c === 0x25 ? PERCENT : c;
    const last = tokens[tokens.length - 1];
    // Runs of wildcards collapse: "**" is "*", "%%" is "%", "*%" and "%*" are "*".
    if (t < 0 && last !== undefined && last < 0) {
      if (t === STAR) tokens[tokens.length - 1] = STAR;
      continue;
    }
    tokens.push(t);
  }
  const literals = tokens.filter((t) => t >= 0).length;
  const upper = tokens.map((t) => (t >= 0x61 && t <= 0x7a ? t - 0x20 : t));
  return (name) => {
    if (literals > name.length) return false;
    const inboxLevel = name === "INBOX" || name.startsWith("INBOX" + HIERARCHY_DELIMITER) ? 5 : 0;
    const n = name.length;
    let prev = new Uint8Array(n + 1);
    let next = new Uint8Array(n + 1);
    prev[0] = 1;
    for (let p = 0; p < tokens.length; p++) {
      const t = tokens[p] as number;
      next.fill(0);
      if (t === STAR) {
        let any = 0;
        for (let j = 0; j <= n; j++) {
          any |= prev[j] as number;
          next[j] = any;
        }
      } else if (t === PERCENT) {
        let run = 0;
        for (let j = 0; j <= n; j++) {
          if (j > 0 && name.charCodeAt(j - 1) === SLASH) run = 0;
          run |= prev[j] as number;
          next[j] = run;
        }
      } else {
        const u = upper[p] as number;
        for (let j = 1; j <= n; j++) {
          if (!prev[j - 1]) continue;
          const c = name.charCodeAt(j - 1);
          if (c === t || (j <= inboxLevel && c === u)) next[j] = 1;
        }
      }
      [prev, next] = [next, prev];
    }
    return prev[n] === 1;
  };
}

/** Reads `pattern` or `(pattern ...)`; each decoded in the session's encoding (null: matches nothing). */
function readPatterns(conn: ImapConnection, args: Args): { patterns: (string | null)[]; multiple: boolean } {
  const list = args.optionalList();
  if (list === null) return { patterns: [decodeWireName(conn, args.listMailbox())], multiple: false };
  if (list.length === 0) throw new ImapProtocolError("BAD", "Empty pattern list");
  const patterns = list.map((token) => {
    if (token.type === "string") return decodeWireName(conn, token.value);
    if (token.type === "atom") return decodeWireName(conn, Buffer.from(token.value, "latin1"));
    if (token.type === "nil") return decodeWireName(conn, Buffer.from(token.raw ?? "NIL", "latin1"));
    throw new ImapProtocolError("BAD", "Expected a mailbox pattern, got a list");
  });
  return { patterns, multiple: true };
}

// ---- options ------------------------------------------------------------------------------

interface ListOptions {
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  returnStatus: StatusItem[] | null;
}

function atomOf(token: Token, what: string): string {
  if (token.type !== "atom") throw new ImapProtocolError("BAD", `Expected ${what}`);
  return token.value.toUpperCase();
}

function readSelectionOptions(tokens: readonly Token[], options: ListOptions): void {
  let remoteOnly = true;
  for (const token of tokens) {
    const option = atomOf(token, "a LIST selection option");
    if (option === "SUBSCRIBED") options.selectSubscribed = true;
    else if (option === "SPECIAL-USE") options.selectSpecialUse = true;
    else if (option === "RECURSIVEMATCH") options.recursiveMatch = true;
    else if (option !== "REMOTE") throw new ImapProtocolError("BAD", `Unknown LIST selection option ${option.slice(0, 30)}`);
    if (option !== "REMOTE" && option !== "RECURSIVEMATCH") remoteOnly = false;
  }
  if (options.recursiveMatch && remoteOnly) {
    throw new ImapProtocolError("BAD", "RECURSIVEMATCH needs another selection option");
  }
}

function readReturnOptions(tokens: readonly Token[], options: ListOptions): void {
  for (let i = 0; i < tokens.length; i++) {
    const option = atomOf(tokens[i] as Token, "a LIST return option");
    if (option === "SUBSCRIBED") options.returnSubscribed = true;
    else if (option === "CHILDREN" || option === "SPECIAL-USE") continue; // always returned
    else if (option === "STATUS") {
      const items = tokens[i + 1];
      if (items?.type !== "list") throw new ImapProtocolError("BAD", "STATUS return option needs a list of items");
      options.returnStatus = parseStatusItems(items.items);
      i++;
    } else throw new ImapProtocolError("BAD", `Unknown LIST return option ${option.slice(0, 30)}`);
  }
}

// ---- LIST ---------------------------------------------------------------------------------

interface Entry {
  name: string;
  attributes: string[];
  childInfo: string[];
  mailbox: Mailbox | undefined;
}

export const list: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const options: ListOptions = {
      selectSubscribed: false,
      selectSpecialUse: false,
      recursiveMatch: false,
      returnSubscribed: false,
      returnStatus: null,
    };
    const selection = args.optionalList();
    if (selection) readSelectionOptions(selection, options);
    const reference = decodeWireName(conn, args.listMailbox("a reference"));
    const { patterns, multiple } = readPatterns(conn, args);
    let returns: Token[] | null = null;
    if (args.remaining() > 0) {
      if (args.atom("RETURN").toUpperCase() !== "RETURN") throw new ImapProtocolError("BAD", "Expected RETURN");
      returns = args.list("a list of return options");
      readReturnOptions(returns, options);
    }
    args.end();
    const extended = selection !== null || returns !== null || multiple;

    if (!multiple && patterns[0] === "" && !options.selectSubscribed && !options.selectSpecialUse) {
      // The special case that asks only for the delimiter and the root (RFC 9051 §6.3.9).
      await conn.send(untaggedParts([`LIST (\\Noselect) "${HIERARCHY_DELIMITER}" ""`]));
      return { text: "List completed." };
    }

    const { accountId } = principalOf(conn);
    const wantSubscriptions = options.selectSubscribed || options.returnSubscribed;
    const [mailboxList, subscriptions, statuses] = await Promise.all([
      edgeCall(conn.store.listMailboxes(accountId)),
      wantSubscriptions ? edgeCall(conn.store.listSubscriptions(accountId)) : null,
      options.returnStatus ? edgeCall(conn.store.mailboxStatus(accountId)) : null,
    ]);

    const matchers = patterns
      .filter((p): p is string => p !== null && p !== "")
      .map((p) => ({ match: patternMatcher((reference ?? "") + p), holes: p.endsWith("%") }));
    const entries =
      reference === null
        ? []
        : listEntries(mailboxList.mailboxes, subscriptions?.names ?? [], matchers, options, extended || isRev2(conn));

    const statusByName = new Map<string, MailboxStatus>((statuses?.mailboxes ?? []).map((s) => [s.name, s]));
    for (const entry of entries) {
      const ext = entry.childInfo.length > 0 ? ` ("CHILDINFO" (${entry.childInfo.map((c) => `"${c}"`).join(" ")}))` : "";
      await conn.send(
        untaggedParts([`LIST (${entry.attributes.join(" ")}) "${HIERARCHY_DELIMITER}" `, mailboxNameToWire(conn, entry.name), ext]),
      );
      if (options.returnStatus && entry.mailbox) {
        const counters = statusByName.get(entry.name);
        if (counters) await conn.send(statusResponse(conn, counters, options.returnStatus));
      }
    }
    return { text: "List completed." };
  },
};

/** The LIST responses, in mailbox order (the edge's), then other names alphabetically. */
function listEntries(
  mailboxes: readonly Mailbox[],
  subscribedNames: readonly string[],
  matchers: readonly { match: (name: string) => boolean; holes: boolean }[],
  options: ListOptions,
  extended: boolean,
): Entry[] {
  const existing = new Map(mailboxes.map((m) => [m.name, m]));
  const subscribed = new Set(subscribedNames.map(canonicalMailboxName));
  /** Names with at least one existing mailbox below them. */
  const parents = new Set(mailboxes.flatMap((m) => ancestorsOf(m.name)));

  const selecting = options.selectSubscribed || options.selectSpecialUse;
  const meetsSelection = (name: string): boolean => {
    if (options.selectSubscribed && !subscribed.has(name)) return false;
    if (options.selectSpecialUse && specialUseAttribute(existing.get(name)?.role ?? null) === null) return false;
    return selecting || existing.has(name);
  };

  // Without selection options only mailboxes (and the levels above them) are candidates.
  const known = new Set<string>(existing.keys());
  if (selecting) for (const name of subscribed) known.add(name);
  const holes = new Set<string>();
  for (const name of known) for (const a of ancestorsOf(name)) if (!known.has(a)) holes.add(a);

  /** Names with a descendant that meets the selection (for RECURSIVEMATCH's CHILDINFO). */
  const selectedAncestors = new Set<string>();
  if (options.recursiveMatch) {
    for (const name of known) if (meetsSelection(name)) for (const a of ancestorsOf(name)) selectedAncestors.add(a);
  }
  const criteria = [...(options.selectSubscribed ? ["SUBSCRIBED"] : []), ...(options.selectSpecialUse ? ["SPECIAL-USE"] : [])];

  const order = [
    ...existing.keys(),
    ...[...known].filter((n) => !existing.has(n)).sort(),
    ...[...holes].sort(),
  ];
  const entries: Entry[] = [];
  for (const name of order) {
    const isHole = holes.has(name);
    const matched = matchers.some((m) => m.match(name) && (!isHole || selecting || m.holes));
    if (!matched) continue;
    const selected = meetsSelection(name);
    const childInfo = options.recursiveMatch && selectedAncestors.has(name) ? criteria : [];
    // A hole is listed for `%` as a level with children; with selection options only through RECURSIVEMATCH.
    if (!selected && childInfo.length === 0 && !(isHole && !selecting)) continue;
    const mailbox = existing.get(name);
    const attributes: string[] = [];
    if (!mailbox) attributes.push(extended ? "\\NonExistent" : "\\Noselect");
    if ((options.selectSubscribed || options.returnSubscribed) && subscribed.has(name)) attributes.push("\\Subscribed");
    if (mailbox) attributes.push(parents.has(name) ? "\\HasChildren" : "\\HasNoChildren");
    else if (parents.has(name)) attributes.push("\\HasChildren");
    const special = specialUseAttribute(mailbox?.role ?? null);
    if (special) attributes.push(special);
    entries.push({ name, attributes, childInfo, mailbox });
  }
  return entries;
}

// ---- LSUB ---------------------------------------------------------------------------------

/**
 * LSUB (RFC 3501 §6.3.9): the subscribed names matching the pattern, whether or not a mailbox
 * of that name exists; for a pattern ending in `%`, a level that is not subscribed but has
 * subscribed names below it is returned with \Noselect.
 */
export const lsub: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const reference = decodeWireName(conn, args.listMailbox("a reference"));
    const pattern = decodeWireName(conn, args.listMailbox());
    args.end();
    const { accountId } = principalOf(conn);
    const { names } = await edgeCall(conn.store.listSubscriptions(accountId));
    if (reference === null || pattern === null || pattern === "") return { text: "Lsub completed." };
    const match = patternMatcher(reference + pattern);
    const subscribed = [...new Set(names.map(canonicalMailboxName))];
    const subscribedSet = new Set(subscribed);
    const levels = new Set<string>();
    if (pattern.endsWith("%")) {
      for (const name of subscribed) for (const a of ancestorsOf(name)) if (!subscribedSet.has(a)) levels.add(a);
    }
    for (const name of [...subscribed, ...[...levels].sort()]) {
      if (!match(name)) continue;
      const attributes = subscribedSet.has(name) ? "" : "\\Noselect";
      await conn.send(untaggedParts([`LSUB (${attributes}) "${HIERARCHY_DELIMITER}" `, mailboxNameToWire(conn, name)]));
    }
    return { text: "Lsub completed." };
  },
};
