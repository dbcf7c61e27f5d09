/**
 * SMTP limits, each with the reason it exists. Enforced where input enters (smtp-server
 * options and the MX policy), answered with the standard reply.
 */
export const smtpLimits = {
  /** Message size advertised in EHLO SIZE and enforced (552 5.3.4). 25 MiB is Postfix's and Gmail's figure. */
  maxMessageBytes: 25 * 1024 * 1024,
  /** RFC 5321 §4.5.3.1.8 says at least 100 must be accepted; more is an abuse signal (452 4.5.3). */
  maxRecipients: 100,
  /** Concurrent SMTP sessions per listener before new ones are turned away (421). */
  maxClients: 200,
  /** Idle time before the session is dropped; RFC 5321 §4.5.3.2.7 suggests 5 minutes. */
  socketTimeoutMs: 5 * 60 * 1000,
  /**
   * Submission (465/587): messages one account may submit per hour before 450 4.7.1. A
   * stolen password must not turn the account into a spam cannon; 100/h is ample for a person.
   */
  maxSubmissionsPerHour: 100,
  /** Failed AUTH attempts per client IP or per account name before 454 4.7.0 without asking the edge (password guessing). */
  maxAuthFailures: 3,
  /** The window those failures are counted in. */
  authFailureWindowMs: 10 * 60 * 1000,
} as const;

export type SmtpLimits = { -readonly [K in keyof typeof smtpLimits]: number };
