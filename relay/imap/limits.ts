/**
 * IMAP limits, each with its reason. Enforced by the reader (sizes) and the connection (time).
 */
export const imapLimits = {
  /** A command line without its literals. Dovecot allows 64 KiB; long UID sets from mbsync need several KiB. */
  maxLineLength: 64 * 1024,
  /** One literal (= APPENDLIMIT once APPEND exists): the largest message we store. */
  maxLiteralSize: 25 * 1024 * 1024,
  /** A whole command with its literals. */
  maxCommandSize: 26 * 1024 * 1024,
  /** RFC 9051 §5.4: an authenticated client may stay idle at least 30 minutes. */
  idleTimeoutMs: 30 * 60 * 1000,
  /** Before login there is no reason to linger: drop silent connections after a minute. */
  preAuthTimeoutMs: 60 * 1000,
  /** Failed logins on one connection before it is closed (slows password guessing). */
  maxAuthFailures: 3,
  /** Open connections from one IP address; beyond it the greeting is BYE [UNAVAILABLE]. */
  maxConnectionsPerIp: 500,
  /** Logged-in sessions of one account (phones, laptops, sync tools); beyond it LOGIN gets NO [LIMIT]. */
  maxConnectionsPerAccount: 100,
  /** Commands a connection may send in a burst, and per second after it; beyond it NO [LIMIT]. */
  commandBurst: 1000,
  commandsPerSecond: 200,
} as const;

export type ImapLimits = { -readonly [K in keyof typeof imapLimits]: number };
