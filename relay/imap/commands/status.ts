/**
 * STATUS (RFC 9051 §6.3.11): counters of a mailbox without selecting it, in one edge call.
 * Items: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, DELETED and SIZE (RFC 9051, RFC 8438
 * STATUS=SIZE), RECENT (IMAP4rev1), HIGHESTMODSEQ (RFC 7162; asking for it turns CONDSTORE on
 * for the connection, as Dovecot does), APPENDLIMIT (RFC 7889: the largest message APPEND
 * takes) and DELETED-STORAGE (RFC 9208, required with QUOTA=RES-STORAGE). The same items serve LIST's RETURN (STATUS (...)) (RFC 5819, see list.ts).
 *
 * Callers may rely on: items come back in the order asked, each once; an unknown item is BAD.
 */
import type { MailboxStatus } from "../../../common/contract.ts";
import type { ImapConnection } from "../connection.ts";
import { mailboxNameFromWire, mailboxNameToWire } from "../mailbox-names.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Token } from "../protocol/parser.ts";
import { untaggedParts } from "../protocol/writer.ts";
import { enableCondstore } from "../session.ts";
import { edgeCall } from "./edge-errors.ts";
import { principalOf } from "./state.ts";
import type { CommandSpec } from "./types.ts";

export const STATUS_ITEMS = [
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  "RECENT",
  "HIGHESTMODSEQ",
  "APPENDLIMIT",
  "DELETED-STORAGE",
] as const;

export type StatusItem = (typeof STATUS_ITEMS)[number];

function isStatusItem(value: string): value is StatusItem {
  return (STATUS_ITEMS as readonly string[]).includes(value);
}

/** `(MESSAGES UNSEEN)` → ["MESSAGES", "UNSEEN"]; BAD for anything else or an empty list. */
export function parseStatusItems(tokens: readonly Token[]): StatusItem[] {
  if (tokens.length === 0) throw new ImapProtocolError("BAD", "Empty status item list");
  const items: StatusItem[] = [];
  for (const token of tokens) {
    const name = token.type === "atom" ? token.value.toUpperCase() : null;
    if (name === null || !isStatusItem(name)) {
      throw new ImapProtocolError("BAD", `Unknown status item ${token.type === "atom" ? token.value.slice(0, 30) : ""}`.trimEnd());
    }
    if (!items.includes(name)) items.push(name);
  }
  return items;
}

function itemValue(conn: ImapConnection, status: MailboxStatus, item: StatusItem): number {
  switch (item) {
    case "MESSAGES":
      return status.messages;
    case "UIDNEXT":
      return status.uidnext;
    case "UIDVALIDITY":
      return status.uidvalidity;
    case "UNSEEN":
      return status.unseen;
    case "DELETED":
      return status.deleted;
    case "SIZE":
      return status.size;
    case "RECENT":
      return status.recent;
    case "HIGHESTMODSEQ":
      return status.highestmodseq;
    case "APPENDLIMIT":
      return conn.limits.maxLiteralSize;
    case "DELETED-STORAGE":
      // RFC 9208 §5.1: in the STORAGE resource's unit, 1024 octets.
      return Math.ceil(status.deletedSize / 1024);
  }
}

/** `* STATUS name (ITEM n ...)` */
export function statusResponse(conn: ImapConnection, status: MailboxStatus, items: readonly StatusItem[]): Buffer {
  const values = items.map((item) => `${item} ${itemValue(conn, status, item)}`).join(" ");
  return untaggedParts(["STATUS ", mailboxNameToWire(conn, status.name), ` (${values})`]);
}

export const status: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
    const items = parseStatusItems(args.list("a list of status items"));
    args.end();
    if (items.includes("HIGHESTMODSEQ")) enableCondstore(conn);
    const { accountId } = principalOf(conn);
    const result = await edgeCall(conn.store.mailboxStatus(accountId, [name]));
    const found = result.mailboxes.find((m) => m.name === name);
    if (!found) throw new ImapProtocolError("NO", "Mailbox does not exist", { code: "NONEXISTENT" });
    await conn.send(statusResponse(conn, found, items));
    return { text: "Status completed." };
  },
};
