/**
 * SMTP limits, each with the reason it exists. Enforced where input enters (smtp-server
 * options and the MX policy), answered with the standard reply.
 */
export const smtpLimits = {
  /**
   * Message size advertised in EHLO SIZE and enforced (552 5.3.4). 25 MiB is Postfix's and Gmail's
   * figure. It must stay within {@link MAX_MESSAGE_BYTES_BOUND} (checked by the config schema).
   */
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

/**
 * The edge refuses a blob (the stored message) above this many bytes with 413 too_large
 * (MAX_BLOB_BYTES in workers/src/store/blobs.ts; a test pins the two together). Cloudflare's own
 * request-body limit (100 MB on the smallest plan) is higher, so this one binds.
 */
export const EDGE_MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** Room for what the relay prepends before upload: Return-Path, Received, Authentication-Results, ARC. */
export const TRACE_HEADROOM_BYTES = 64 * 1024;

/**
 * The largest `maxMessageBytes` whose every message fits the edge: what the client sends is
 * stored with bare LFs turned into CRLF (at worst twice the size) plus our trace fields. A
 * message we accepted at SIZE can then never be refused by the edge for its size.
 */
export const MAX_MESSAGE_BYTES_BOUND = Math.floor((EDGE_MAX_BLOB_BYTES - TRACE_HEADROOM_BYTES) / 2);

/**
 * MX-only abuse limits (port 25: anyone may connect, nobody authenticates). Replies: 421 4.7.0
 * and disconnect for each "too many", like Postfix's anvil and error limits; the limits of the
 * transaction itself (recipients, size, idle time) are in {@link smtpLimits}.
 */
export const mxLimits = {
  /**
   * Concurrent connections from one client IP; the next one gets `421 4.7.0` instead of the
   * greeting. Postfix smtpd_client_connection_count_limit, default 50 (half its process limit).
   */
  maxConnectionsPerIp: 50,
  /**
   * Messages accepted (250 at DATA) on one connection; the next MAIL gets `421 4.7.0` and the
   * connection is closed, so the client continues on a new one. Exim's
   * smtp_accept_max_per_connection, default 1000 (Postfix and maddy have no such limit).
   */
  maxMessagesPerConnection: 1000,
  /**
   * Commands outside a mail transaction (before the first MAIL, or since the last transaction
   * ended), QUIT aside: this many are answered, the next gets `421 4.7.0`. Postfix
   * smtpd_junk_command_limit, default 100 (which counts NOOP/VRFY/ETRN/RSET only).
   */
  maxCommandsWithoutMail: 100,
  /**
   * RCPTs refused with 550 5.1.1 on one connection; the next RCPT after that many gets
   * `421 4.7.0` (directory harvesting). Postfix smtpd_hard_error_limit, default 20.
   */
  maxUnknownRecipients: 20,
  /**
   * Time from accept to our 220. A client that sends anything before it is an early talker
   * (RFC 5321 §4.3.1: the client waits for the greeting) and gets `554 5.5.0` and disconnect, as
   * Exim's "SMTP synchronization error". smtp-server always waits 100 ms, the minimum; Postfix's
   * postscreen_greet_wait is 6 s, but only for clients it has not seen pass before.
   */
  greetingDelayMs: 100,
} as const;

export type MxLimits = { -readonly [K in keyof typeof mxLimits]: number };

/** DNSBL settings of the MX; no zones = no lookups. */
export const dnsblDefaults = {
  /** Zones asked for `<reversed client IP>.<zone>` A (RFC 5782), e.g. "zen.spamhaus.org". */
  zones: [] as string[],
  /**
   * A lookup that has not answered by then counts as "not listed" (mail is never held up by a
   * slow list). Lookups start at connect and are awaited at the first RCPT. Postfix's
   * postscreen_dnsbl_timeout is 10 s; ours sits in front of a reply, so shorter.
   */
  timeoutMs: 3_000,
};

export interface DnsblSettings {
  zones: string[];
  timeoutMs: number;
}

/**
 * The smtp-server options every listener (MX and submission) sets the same way: the limits
 * above, enhanced status codes on, no reverse lookups through the system resolver (tests and
 * the relay use their own), no library logging.
 */
export function sharedServerOptions(limits: SmtpLimits) {
  return {
    hideENHANCEDSTATUSCODES: false,
    size: limits.maxMessageBytes,
    rejectOversized: true,
    maxRecipients: limits.maxRecipients,
    maxClients: limits.maxClients,
    socketTimeout: limits.socketTimeoutMs,
    disableReverseLookup: true,
    logger: false,
  } as const;
}
