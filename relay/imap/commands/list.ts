/**
 * LIST (RFC 9051 §6.3.9): mailbox names matching a reference and a pattern, with `*` and `%`
 * wildcards and "/" as the hierarchy delimiter; special-use mailboxes carry their RFC 6154
 * attribute (\Sent, \Drafts, \Junk, \Trash, \Archive).
 */
import type { SpecialUse } from "../../../common/contract.ts";
import { astring } from "../protocol/strings.ts";
import { untaggedParts } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

export const HIERARCHY_DELIMITER = "/";

const roleAttribute: Record<SpecialUse, string | null> = {
  inbox: null,
  sent: "\\Sent",
  drafts: "\\Drafts",
  junk: "\\Junk",
  trash: "\\Trash",
  archive: "\\Archive",
};

export const list: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const reference = args.listMailbox("a reference").toString("utf8");
    const pattern = args.listMailbox().toString("utf8");
    args.end();
    if (conn.state.kind !== "authenticated" && conn.state.kind !== "selected") throw new Error("unreachable");
    if (pattern === "") {
      // The special case that asks only for the delimiter and the root (RFC 9051 §6.3.9).
      await conn.send(untaggedParts([`LIST (\\Noselect) "${HIERARCHY_DELIMITER}" ""`]));
      return { text: "List completed." };
    }
    const matcher = patternMatcher(reference + pattern);
    const { mailboxes } = await conn.store.listMailboxes(conn.state.principal.accountId);
    const names = new Set(mailboxes.map((m) => m.name));
    for (const mailbox of mailboxes) {
      if (!matcher(mailbox.name)) continue;
      const hasChildren = [...names].some((n) => n.startsWith(mailbox.name + HIERARCHY_DELIMITER));
      const attributes = [hasChildren ? "\\HasChildren" : "\\HasNoChildren"];
      const special = mailbox.role ? roleAttribute[mailbox.role] : null;
      if (special) attributes.push(special);
      await conn.send(
        untaggedParts([`LIST (${attributes.join(" ")}) "${HIERARCHY_DELIMITER}" `, astring(mailbox.name)]),
      );
    }
    return { text: "List completed." };
  },
};

/** `*` matches anything, `%` anything but the delimiter; INBOX matches case-insensitively. */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const source = [...pattern]
    .map((ch) => (ch === "*" ? ".*" : ch === "%" ? `[^${HIERARCHY_DELIMITER}]*` : ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  const exact = new RegExp(`^${source}$`);
  const inboxInsensitive = new RegExp(`^${source}$`, "i");
  return (name) => exact.test(name) || (name.toUpperCase() === "INBOX" && inboxInsensitive.test(name));
}
