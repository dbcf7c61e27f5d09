/**
 * Managing mailboxes: CREATE (with RFC 6154 CREATE-SPECIAL-USE `(USE (\Sent))`), DELETE,
 * RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 §6.3.4–6.3.8) and NAMESPACE (RFC 2342, RFC 9051
 * §6.3.10). One edge call each; the edge decides what exists, these handlers decide what a
 * name may be (mailbox-names.ts) and how a refusal is worded.
 *
 * What a client may rely on:
 * - CREATE of INBOX, or of a name that exists → NO [ALREADYEXISTS]; a trailing "/" is
 *   dropped; empty levels, `%`, `*` and control characters → NO [CANNOT]; a special use we
 *   do not offer (or more than one) → NO [USEATTR] and nothing is created;
 * - DELETE of INBOX, or of a mailbox with children → NO [CANNOT]; of a name that does not
 *   exist → NO [NONEXISTENT]; deleting the selected mailbox ends the session after the
 *   tagged OK (`* BYE`), as Dovecot does: its sequence numbers no longer mean anything;
 * - RENAME moves children along; RENAME INBOX moves its messages and leaves INBOX empty
 *   (RFC 9051 §6.3.6); to a name that exists (or INBOX) → NO [ALREADYEXISTS]; into itself
 *   → NO [CANNOT]; renaming the selected mailbox keeps it selected under its new name;
 * - SUBSCRIBE accepts names that do not exist (RFC 9051 §6.3.7 allows either); UNSUBSCRIBE
 *   of a name not subscribed succeeds;
 * - NAMESPACE: one personal namespace "" with delimiter "/", nothing shared.
 */
import type { CreateMailboxRequest } from "../../../common/contract.ts";
import { checkNewMailboxName, isSameOrBelow, mailboxNameFromWire } from "../mailbox-names.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Token } from "../protocol/parser.ts";
import { untagged, untaggedStatus } from "../protocol/writer.ts";
import { EdgeError } from "../../edge/errors.ts";
import { edgeCall, toImapError } from "./edge-errors.ts";
import { principalOf } from "./state.ts";
import type { CommandSpec } from "./types.ts";

type SpecialUseName = NonNullable<CreateMailboxRequest["specialUse"]>;

const USE_ATTRIBUTES: Record<string, SpecialUseName> = {
  "\\SENT": "sent",
  "\\DRAFTS": "drafts",
  "\\JUNK": "junk",
  "\\TRASH": "trash",
  "\\ARCHIVE": "archive",
};

function readCreateParams(tokens: readonly Token[]): SpecialUseName | undefined {
  let use: SpecialUseName | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type !== "atom" || token.value.toUpperCase() !== "USE") {
      throw new ImapProtocolError("BAD", "Unknown CREATE parameter");
    }
    const attributes = tokens[++i];
    if (attributes?.type !== "list") throw new ImapProtocolError("BAD", "USE needs a list of special-use attributes");
    for (const attribute of attributes.items) {
      if (attribute.type !== "atom" || !attribute.value.startsWith("\\")) {
        throw new ImapProtocolError("BAD", "Special-use attributes are flags like \\Sent");
      }
      const role = USE_ATTRIBUTES[attribute.value.toUpperCase()];
      if (!role) throw new ImapProtocolError("NO", `Special use ${attribute.value.slice(0, 30)} is not supported`, { code: "USEATTR" });
      if (use !== undefined && use !== role) {
        throw new ImapProtocolError("NO", "A mailbox can have only one special use", { code: "USEATTR" });
      }
      use = role;
    }
  }
  return use;
}

export const create: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const name = checkNewMailboxName(mailboxNameFromWire(conn, args.astring("a mailbox name")));
    const params = args.optionalList();
    args.end();
    const specialUse = params ? readCreateParams(params) : undefined;
    if (name === "INBOX") throw new ImapProtocolError("NO", "INBOX always exists", { code: "ALREADYEXISTS" });
    const { accountId } = principalOf(conn);
    try {
      await conn.store.createMailbox(accountId, specialUse ? { name, specialUse } : { name });
    } catch (err) {
      // The edge refuses a second mailbox with the same role: a special-use reason (RFC 6154 §5.1).
      if (specialUse && err instanceof EdgeError && err.code === "cannot") {
        throw new ImapProtocolError("NO", "Another mailbox already has that special use", { code: "USEATTR" });
      }
      throw toImapError(err);
    }
    return { text: "Create completed." };
  },
};

export const deleteMailbox: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
    args.end();
    if (name === "INBOX") throw new ImapProtocolError("NO", "INBOX cannot be deleted", { code: "CANNOT" });
    const { accountId } = principalOf(conn);
    await edgeCall(conn.store.deleteMailbox(accountId, name), {
      texts: { cannot: "Mailbox has child mailboxes, delete them first" },
    });
    const state = conn.state;
    if (state.kind === "selected" && state.view.mailbox.name === name) {
      conn.state = { kind: "authenticated", principal: state.principal };
      return {
        text: "Delete completed.",
        after: async () => {
          await conn.send(untaggedStatus("BYE", "Selected mailbox was deleted, have to disconnect."));
          conn.close();
        },
      };
    }
    return { text: "Delete completed." };
  },
};

export const rename: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const from = mailboxNameFromWire(conn, args.astring("a mailbox name"));
    const to = checkNewMailboxName(mailboxNameFromWire(conn, args.astring("a new mailbox name")));
    args.end();
    if (to === "INBOX" || to === from) throw new ImapProtocolError("NO", "Target mailbox already exists", { code: "ALREADYEXISTS" });
    if (from !== "INBOX" && isSameOrBelow(to, from)) {
      throw new ImapProtocolError("NO", "Cannot rename a mailbox below itself", { code: "CANNOT" });
    }
    const { accountId } = principalOf(conn);
    await edgeCall(conn.store.renameMailbox(accountId, from, to), {
      texts: { already_exists: "Target mailbox already exists" },
    });
    // INBOX's children stay where they are when INBOX is renamed (RFC 9051 §6.3.6).
    const state = conn.state;
    if (state.kind === "selected" && from !== "INBOX" && isSameOrBelow(state.view.mailbox.name, from)) {
      state.view.mailbox = { ...state.view.mailbox, name: to + state.view.mailbox.name.slice(from.length) };
    }
    return { text: "Rename completed." };
  },
};

function subscription(subscribed: boolean): CommandSpec {
  return {
    states: ["authenticated", "selected"],
    async run({ args, conn }) {
      const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
      args.end();
      const { accountId } = principalOf(conn);
      await edgeCall(conn.store.subscribe(accountId, name, subscribed));
      return { text: subscribed ? "Subscribe completed." : "Unsubscribe completed." };
    },
  };
}

export const subscribe = subscription(true);
export const unsubscribe = subscription(false);

export const namespace: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    args.end();
    await conn.send(untagged('NAMESPACE (("" "/")) NIL NIL'));
    return { text: "Namespace completed." };
  },
};
