/**
 * The relay's configuration: one validated object from one JSON file plus environment
 * overrides (EDGEMAIL_EDGE_URL, EDGEMAIL_RELAY_KEY). `describeConfig` prints it without secrets.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { imapLimits } from "./imap/limits.ts";
import { smtpLimits } from "./smtp/limits.ts";

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
  smtpLimits: z
    .object({
      maxMessageBytes: z.number().int().positive().default(smtpLimits.maxMessageBytes),
      maxRecipients: z.number().int().positive().default(smtpLimits.maxRecipients),
      maxClients: z.number().int().positive().default(smtpLimits.maxClients),
      socketTimeoutMs: z.number().int().positive().default(smtpLimits.socketTimeoutMs),
      maxSubmissionsPerHour: z.number().int().positive().default(smtpLimits.maxSubmissionsPerHour),
      maxAuthFailures: z.number().int().positive().default(smtpLimits.maxAuthFailures),
      authFailureWindowMs: z.number().int().positive().default(smtpLimits.authFailureWindowMs),
    })
    .default({ ...smtpLimits }),
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
