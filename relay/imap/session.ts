/**
 * The IMAP session state machine (RFC 9051 §3) as a discriminated union. Commands declare
 * the states they are valid in; the dispatcher refuses the rest with BAD.
 */
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
