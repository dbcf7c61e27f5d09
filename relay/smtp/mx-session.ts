/**
 * What the MX learns about one SMTP connection and its current transaction, kept beside
 * smtp-server's session object: the inbound policies of the accepted recipients' domains
 * (RCPT), the DNSBL zones listing the client (connect), counters for the abuse limits.
 *
 * Callers may rely on: `mxSession(session)` returns the same state for the whole connection;
 * `startTransaction` (MAIL FROM) clears the per-transaction part; the state goes away with the
 * session object (WeakMap).
 */
import type { SMTPServerSession } from "smtp-server";
import type { InboundAction, InboundPolicy } from "../../common/contract.ts";

export interface MxSessionState {
  /** Per transaction: the policy of each accepted recipient's domain. */
  policies: InboundPolicy[];
  /** Per connection: DNSBL zones that list the client IP (looked up at connect). */
  dnsblListings: string[];
  /** Per connection: messages accepted so far, RCPTs refused as unknown so far. */
  messages: number;
  unknownRecipients: number;
}

const states = new WeakMap<SMTPServerSession, MxSessionState>();

export function mxSession(session: SMTPServerSession): MxSessionState {
  let state = states.get(session);
  if (!state) {
    state = { policies: [], dnsblListings: [], messages: 0, unknownRecipients: 0 };
    states.set(session, state);
  }
  return state;
}

export function startTransaction(session: SMTPServerSession): void {
  mxSession(session).policies = [];
}

const STRICTNESS: Record<InboundAction, number> = { ignore: 0, quarantine: 1, reject: 2 };

/** The strictest action among the recipients' domains for one check (no recipients: ignore). */
export function strictestAction(policies: InboundPolicy[], check: keyof InboundPolicy): InboundAction {
  let action: InboundAction = "ignore";
  for (const p of policies) if (STRICTNESS[p[check]] > STRICTNESS[action]) action = p[check];
  return action;
}
