/**
 * The relay's configuration: one validated object from one JSON file plus environment
 * overrides (EDGEMAIL_EDGE_URL, EDGEMAIL_RELAY_KEY). `describeConfig` prints it without secrets.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { imapLimits } from "./imap/limits.ts";
import { dnsblDefaults, MAX_MESSAGE_BYTES_BOUND, mxLimits, smtpLimits } from "./smtp/limits.ts";

/** What one outbound host attempt may take: a connect timeout and two command timeouts (the slowest replies). */
export function hostAttemptBudgetMs(t: { connectTimeoutMs: number; commandTimeoutMs: number }): number {
  return t.connectTimeoutMs + 2 * t.commandTimeoutMs;
}

/** null switches a listener off; 0 picks a free port (tests). */
const Port = z.number().int().min(0).max(65535).nullable();

export const RelayConfig = z.object({
  /** The name this host uses in greetings and Received lines; the MX name in DNS. */
  hostname: z.string().min(1),
  edge: z.object({
    url: z.url(),
    relayKey: z.string().min(16),
    timeoutMs: z.number().int().positive().default(20_000),
  }),
  tls: z.object({ certFile: z.string(), keyFile: z.string() }),
  /**
   * Resolvers for every lookup the relay makes (MX, MTA-STS, DANE, SPF/DKIM/DMARC, DNSBL), as
   * `ip` or `ip:port`; empty: the system's (/etc/resolv.conf). DANE trusts their AD bit, so use
   * a validating resolver on the same host (unbound).
   */
  dnsServers: z.array(z.string()).default([]),
  listen: z.object({
    host: z.string().default("0.0.0.0"),
    mx: Port.default(25),
    imaps: Port.default(993),
    imap: Port.default(143),
    /** Submission with implicit TLS (RFC 8314). */
    submissions: Port.default(465),
    /** Submission with STARTTLS (RFC 6409). */
    submission: Port.default(587),
  }),
  /** Outbound delivery: leases jobs from the edge's queue and hands them to the receivers' MXs. */
  delivery: z
    .object({
      /** Off for a relay that only receives (or in tests that do not deliver). */
      enabled: z.boolean().default(true),
      /** Names this relay in leases; defaults to the hostname. */
      relayId: z.string().min(1).max(100).optional(),
      /** The port remote MXs listen on; only tests change it. */
      smtpPort: z.number().int().min(1).max(65535).default(25),
      /** The port MTA-STS policy hosts serve HTTPS on; only tests change it. */
      mtaStsPort: z.number().int().min(1).max(65535).default(443),
      /** PEM files trusted in addition to Node's root store (MTA-STS policy hosts and MX certificates). */
      extraCaFiles: z.array(z.string()).default([]),
      dane: z.boolean().default(true),
      concurrency: z.number().int().min(1).max(100).default(8),
      /** Must outlast one host attempt (connect + 2 command timeouts), checked below. */
      leaseSeconds: z.number().int().min(30).max(3600).default(900),
      /** How often an idle relay asks the edge for due jobs. */
      pollIntervalMs: z.number().int().positive().default(15_000),
      connectTimeoutMs: z.number().int().positive().default(30_000),
      /** Per SMTP command; RFC 5321 §4.5.3.2 suggests minutes, a stuck receiver must not hold a lease forever. */
      commandTimeoutMs: z.number().int().positive().default(120_000),
      /** How long DKIM keys fetched from the edge are used before asking again. */
      keyCacheMs: z.number().int().positive().default(300_000),
    })
    .default({
      enabled: true,
      smtpPort: 25,
      mtaStsPort: 443,
      extraCaFiles: [],
      dane: true,
      concurrency: 8,
      leaseSeconds: 900,
      pollIntervalMs: 15_000,
      connectTimeoutMs: 30_000,
      commandTimeoutMs: 120_000,
      keyCacheMs: 300_000,
    })
    .refine((d) => d.leaseSeconds * 1000 > hostAttemptBudgetMs(d), {
      message: "delivery.leaseSeconds must exceed connectTimeoutMs + 2 × commandTimeoutMs",
    }),
  smtpLimits: z
    .object({
      /** At most MAX_MESSAGE_BYTES_BOUND (≈32 MiB), so every message we accept fits the edge's blob limit. */
      maxMessageBytes: z.number().int().positive().max(MAX_MESSAGE_BYTES_BOUND).default(smtpLimits.maxMessageBytes),
      maxRecipients: z.number().int().positive().default(smtpLimits.maxRecipients),
      maxClients: z.number().int().positive().default(smtpLimits.maxClients),
      socketTimeoutMs: z.number().int().positive().default(smtpLimits.socketTimeoutMs),
      maxSubmissionsPerHour: z.number().int().positive().default(smtpLimits.maxSubmissionsPerHour),
      maxAuthFailures: z.number().int().positive().default(smtpLimits.maxAuthFailures),
      authFailureWindowMs: z.number().int().positive().default(smtpLimits.authFailureWindowMs),
    })
    .default({ ...smtpLimits }),
  /** Port 25 only; each value's default and its source are in relay/smtp/limits.ts. */
  mxLimits: z
    .object({
      maxConnectionsPerIp: z.number().int().positive().default(mxLimits.maxConnectionsPerIp),
      maxMessagesPerConnection: z.number().int().positive().default(mxLimits.maxMessagesPerConnection),
      maxCommandsWithoutMail: z.number().int().positive().default(mxLimits.maxCommandsWithoutMail),
      maxUnknownRecipients: z.number().int().positive().default(mxLimits.maxUnknownRecipients),
      /** smtp-server waits 100 ms before every greeting whatever we say: less is not possible. */
      greetingDelayMs: z.number().int().min(100).max(60_000).default(mxLimits.greetingDelayMs),
    })
    .default({ ...mxLimits }),
  /**
   * DNS blocklists asked about every MX client through `dnsServers`; what a listing does is each
   * recipient domain's `inbound.dnsbl` action (reject: 554 5.7.1 at RCPT; quarantine: Junk).
   */
  dnsbl: z
    .object({
      zones: z.array(z.string().regex(/^(?=.{1,253}\.?$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\.?$/i)).default([]),
      timeoutMs: z.number().int().min(100).max(30_000).default(dnsblDefaults.timeoutMs),
    })
    .default({ zones: [], timeoutMs: dnsblDefaults.timeoutMs }),
  imapLimits: z
    .object({
      maxLineLength: z.number().int().positive().default(imapLimits.maxLineLength),
      maxLiteralSize: z.number().int().positive().default(imapLimits.maxLiteralSize),
      maxCommandSize: z.number().int().positive().default(imapLimits.maxCommandSize),
      idleTimeoutMs: z.number().int().positive().default(imapLimits.idleTimeoutMs),
      preAuthTimeoutMs: z.number().int().positive().default(imapLimits.preAuthTimeoutMs),
      maxAuthFailures: z.number().int().positive().default(imapLimits.maxAuthFailures),
      maxConnectionsPerIp: z.number().int().positive().default(imapLimits.maxConnectionsPerIp),
      maxConnectionsPerAccount: z.number().int().positive().default(imapLimits.maxConnectionsPerAccount),
      commandBurst: z.number().int().positive().default(imapLimits.commandBurst),
      commandsPerSecond: z.number().int().positive().default(imapLimits.commandsPerSecond),
    })
    .default({ ...imapLimits }),
});
export type RelayConfig = z.output<typeof RelayConfig>;
export type RelayConfigInput = z.input<typeof RelayConfig>;

export function parseConfig(input: unknown, env: NodeJS.ProcessEnv = {}): RelayConfig {
  const merged = structuredClone(input) as { edge?: Record<string, unknown> };
  merged.edge ??= {};
  if (env.EDGEMAIL_EDGE_URL) merged.edge.url = env.EDGEMAIL_EDGE_URL;
  if (env.EDGEMAIL_RELAY_KEY) merged.edge.relayKey = env.EDGEMAIL_RELAY_KEY;
  return RelayConfig.parse(merged);
}

export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<RelayConfig> {
  return parseConfig(JSON.parse(await readFile(path, "utf8")), env);
}

export function describeConfig(config: RelayConfig): string {
  const safe = { ...config, edge: { ...config.edge, relayKey: "<redacted>" } };
  return JSON.stringify(safe, null, 2);
}
