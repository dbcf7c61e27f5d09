/**
 * Small accessors for the session state that the mailbox commands share. The dispatcher has
 * already checked the command's states, so a mismatch here is a bug in the command table.
 */
import type { ImapConnection } from "../connection.ts";
import type { MailboxView } from "../mailbox-view.ts";
import type { Principal } from "../session.ts";

export function principalOf(conn: ImapConnection): Principal {
  const state = conn.state;
  if (state.kind !== "authenticated" && state.kind !== "selected") throw new Error("command run outside the authenticated states");
  return state.principal;
}

export function selectedOf(conn: ImapConnection): { principal: Principal; view: MailboxView } {
  const state = conn.state;
  if (state.kind !== "selected") throw new Error("command run outside the selected state");
  return { principal: state.principal, view: state.view };
}
