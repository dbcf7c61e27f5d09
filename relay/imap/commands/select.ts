/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): one edge call fetches the mailbox and every
 * message's UID and flags; the session keeps them as its MailboxView. EXAMINE is the
 * read-only form. Selecting a mailbox that does not exist leaves the session authenticated
 * (the previous mailbox is closed either way, as the RFC says).
 */
import { MailboxView } from "../mailbox-view.ts";
import { flagList, untagged } from "../protocol/writer.ts";
import type { CommandContext, CommandResult, CommandSpec } from "./types.ts";

export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

async function open(ctx: CommandContext, readOnly: boolean): Promise<CommandResult> {
  const name = ctx.args.astringText();
  ctx.args.end();
  const { conn } = ctx;
  if (conn.state.kind !== "authenticated" && conn.state.kind !== "selected") throw new Error("unreachable");
  const principal = conn.state.principal;
  conn.state = { kind: "authenticated", principal };
  const snapshot = await conn.store.selectMailbox(principal.accountId, name);
  const view = new MailboxView(snapshot, readOnly);
  const flags = [...SYSTEM_FLAGS, ...view.keywords()];
  await conn.send(untagged(`FLAGS ${flagList(flags)}`));
  const permanent = readOnly ? "()" : flagList([...flags, "\\*"]);
  await conn.send(untagged(`OK [PERMANENTFLAGS ${permanent}] Flags permitted.`));
  await conn.send(untagged(`${view.exists} EXISTS`));
  // \Recent is not tracked yet: no session is ever told a message is recent (RFC 3501 allows 0).
  await conn.send(untagged("0 RECENT"));
  const unseen = view.firstUnseenSeq();
  if (unseen !== null) await conn.send(untagged(`OK [UNSEEN ${unseen}] First unseen.`));
  await conn.send(untagged(`OK [UIDVALIDITY ${view.mailbox.uidvalidity}] UIDs valid`));
  await conn.send(untagged(`OK [UIDNEXT ${view.mailbox.uidnext}] Predicted next UID`));
  conn.state = { kind: "selected", principal, view };
  return { text: `${readOnly ? "Examine" : "Select"} completed.`, code: readOnly ? "READ-ONLY" : "READ-WRITE" };
}

export const select: CommandSpec = {
  states: ["authenticated", "selected"],
  run: (ctx) => open(ctx, false),
};

export const examine: CommandSpec = {
  states: ["authenticated", "selected"],
  run: (ctx) => open(ctx, true),
};
