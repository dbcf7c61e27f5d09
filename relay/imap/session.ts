/**
 * The IMAP session state machine (RFC 9051 §3) as a discriminated union. Commands declare
 * the states they are valid in; the dispatcher refuses the rest with BAD.
 *
 * Also the few questions about the session's negotiated behaviour that many commands ask:
 * is this an IMAP4rev2 session (after `ENABLE IMAP4rev2`, RFC 9051 §6.3.1), and is CONDSTORE
 * active (RFC 7162 §3.1: turned on by ENABLE CONDSTORE/QRESYNC or by the first
 * CONDSTORE-enabling command, and never off again for the connection).
 */
import type { ImapConnection } from "./connection.ts";
import type { MailboxView } from "./mailbox-view.ts";

export interface Principal {
  accountId: number;
  address: string;
}

export type SessionState =
  | { kind: "notAuthenticated" }
  | { kind: "authenticated"; principal: Principal }
  | { kind: "selected"; principal: Principal; view: MailboxView }
  | { kind: "logout" };

export type StateKind = SessionState["kind"];

export const stateNames: Record<StateKind, string> = {
  notAuthenticated: "not authenticated",
  authenticated: "authenticated",
  selected: "selected",
  logout: "logout",
};

type Session = Pick<ImapConnection, "enabled">;

/** True after `ENABLE IMAP4rev2`: no \Recent, no RECENT/UNSEEN, ESEARCH answers SEARCH. */
export function isRev2(conn: Session): boolean {
  return conn.enabled.has("IMAP4REV2");
}

/** RFC 7162: MODSEQ goes into unsolicited FETCH responses, HIGHESTMODSEQ matters. */
export function condstoreActive(conn: Session): boolean {
  return conn.enabled.has("CONDSTORE") || conn.enabled.has("QRESYNC");
}

export function qresyncActive(conn: Session): boolean {
  return conn.enabled.has("QRESYNC");
}

/**
 * A CONDSTORE-enabling command was used (SELECT (CONDSTORE), FETCH MODSEQ or CHANGEDSINCE,
 * SEARCH MODSEQ, STORE UNCHANGEDSINCE): CONDSTORE stays on for the connection (RFC 7162 §3.1).
 */
export function enableCondstore(conn: Session): void {
  conn.enabled.add("CONDSTORE");
}
