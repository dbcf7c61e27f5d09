/**
 * The whole product on one machine: the edge in workerd (local D1/R2) and the relay on
 * loopback ports, sharing one data folder. `npm start` and the end-to-end tests both start
 * it through here, so the tests run exactly what a user runs.
 *
 * Callers may rely on: secrets and the certificate are made on first start and reused; the
 * demo domain and account exist once start() resolves; the edge and the relay can each be
 * stopped and started again on the same ports (state survives in the data folder).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig, type RelayConfig } from "../relay/config.ts";
import { startRelay, type RunningRelay } from "../relay/relay.ts";
import { ensureCertificate, type CertificateFiles } from "./certificate.ts";
import { startEdge, type RunningEdge } from "./edge.ts";

export interface StackOptions {
  dataDir: string;
  /** 0 = any free port. */
  ports?: { edge?: number; mx?: number; imaps?: number; imap?: number; submissions?: number; submission?: number };
  hostname?: string;
  demo?: { domain: string; user: string };
  allowFaultInjection?: boolean;
  /** Relay → edge timeout; tests shorten it. */
  edgeTimeoutMs?: number;
  /** Overrides of relay limits, e.g. a small message size for tests. */
  smtpLimits?: Partial<RelayConfig["smtpLimits"]>;
  imapLimits?: Partial<RelayConfig["imapLimits"]>;
  /** Overrides of the MX's abuse limits (connections per IP, messages per connection, …). */
  mxLimits?: Partial<RelayConfig["mxLimits"]>;
  /** DNSBL zones (and lookup timeout) the MX consults through `dnsServers`; default none. */
  dnsbl?: Partial<RelayConfig["dnsbl"]>;
  /**
   * Outbound delivery settings. Tests that do not deliver leave it out, so no relay leases
   * jobs behind their back; `npm start` switches it on with the system resolver.
   */
  delivery?: Partial<RelayConfig["delivery"]>;
  /** The relay's resolvers (tests: a local unbound zone); empty: the system's. */
  dnsServers?: string[];
  log?: (line: string) => void;
}

export interface Secrets {
  adminToken: string;
  relayKey: string;
  demoPassword: string;
}

/** What a mail client or script needs; written to `<dataDir>/local.json`. */
export interface LocalSettings {
  host: string;
  ports: {
    smtp: number | null;
    submissions: number | null;
    submission: number | null;
    imaps: number | null;
    imap: number | null;
    edge: number;
  };
  edgeUrl: string;
  adminToken: string;
  demo: { address: string; password: string; domain: string };
  certificate: string;
  dataDir: string;
}

export class LocalStack {
  readonly options: StackOptions;
  secrets!: Secrets;
  certificate!: CertificateFiles;
  edge: RunningEdge | null = null;
  relay: RunningRelay | null = null;
  #edgePort: number;
  #relayPorts: { mx: number; imaps: number; imap: number; submissions: number; submission: number };

  constructor(options: StackOptions) {
    this.options = options;
    this.#edgePort = options.ports?.edge ?? 0;
    this.#relayPorts = {
      mx: options.ports?.mx ?? 0,
      imaps: options.ports?.imaps ?? 0,
      imap: options.ports?.imap ?? 0,
      submissions: options.ports?.submissions ?? 0,
      submission: options.ports?.submission ?? 0,
    };
  }

  get hostname(): string {
    return this.options.hostname ?? "mx.edgemail.test";
  }

  get demo(): { domain: string; user: string } {
    return this.options.demo ?? { domain: "edgemail.test", user: "demo" };
  }

  get edgeUrl(): string {
    return `http://127.0.0.1:${this.#edgePort}`;
  }

  async start(): Promise<LocalSettings> {
    await mkdir(this.options.dataDir, { recursive: true });
    this.secrets = await loadOrCreateSecrets(join(this.options.dataDir, "secrets.json"));
    this.certificate = await ensureCertificate(join(this.options.dataDir, "tls"), this.hostname);
    await this.startEdge();
    await this.ensureDemoAccount();
    await this.startRelay();
    const settings = this.settings();
    await writeFile(join(this.options.dataDir, "local.json"), JSON.stringify(settings, null, 2) + "\n", { mode: 0o600 });
    return settings;
  }

  async startEdge(): Promise<void> {
    this.edge = await startEdge({
      persistDir: join(this.options.dataDir, "state"),
      port: this.#edgePort,
      adminToken: this.secrets.adminToken,
      relayKey: this.secrets.relayKey,
      allowFaultInjection: this.options.allowFaultInjection ?? false,
    });
    this.#edgePort = this.edge.port;
  }

  async stopEdge(): Promise<void> {
    await this.edge?.stop();
    this.edge = null;
  }

  async startRelay(): Promise<void> {
    const config = parseConfig({
      hostname: this.hostname,
      edge: { url: this.edgeUrl, relayKey: this.secrets.relayKey, timeoutMs: this.options.edgeTimeoutMs ?? 20_000 },
      tls: this.certificate,
      listen: { host: "127.0.0.1", ...this.#relayPorts },
      smtpLimits: this.options.smtpLimits ?? {},
      imapLimits: this.options.imapLimits ?? {},
      mxLimits: this.options.mxLimits ?? {},
      dnsbl: this.options.dnsbl ?? {},
      dnsServers: this.options.dnsServers ?? [],
      delivery: this.options.delivery ? { enabled: true, ...this.options.delivery } : { enabled: false },
    });
    this.relay = await startRelay(config, this.options.log);
    const p = this.relay.ports;
    this.#relayPorts = {
      mx: p.mx ?? 0,
      imaps: p.imaps ?? 0,
      imap: p.imap ?? 0,
      submissions: p.submissions ?? 0,
      submission: p.submission ?? 0,
    };
  }

  async stopRelay(): Promise<void> {
    await this.relay?.stop();
    this.relay = null;
  }

  async stop(): Promise<void> {
    await this.stopRelay();
    await this.stopEdge();
  }

  /** Calls the admin API; throws on a non-2xx answer other than those listed in `allow`. */
  async admin(method: string, path: string, body?: unknown, allow: number[] = []): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${this.edgeUrl}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.secrets.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!response.ok && !allow.includes(response.status)) {
      throw new Error(`admin ${method} ${path} answered ${response.status}: ${text}`);
    }
    return { status: response.status, json };
  }

  async ensureDemoAccount(): Promise<void> {
    const { domain, user } = this.demo;
    // The relay's name is the domain's MX host: DNS records, the MTA-STS policy and autoconfig follow it.
    await this.admin("POST", "/domains", { name: domain, mxHosts: [this.hostname], mtaSts: { mode: "testing" } }, [409]);
    await this.admin("POST", "/accounts", { address: `${user}@${domain}`, password: this.secrets.demoPassword }, [409]);
  }

  settings(): LocalSettings {
    const { domain, user } = this.demo;
    return {
      host: "127.0.0.1",
      ports: {
        smtp: this.relay?.ports.mx ?? null,
        submissions: this.relay?.ports.submissions ?? null,
        submission: this.relay?.ports.submission ?? null,
        imaps: this.relay?.ports.imaps ?? null,
        imap: this.relay?.ports.imap ?? null,
        edge: this.#edgePort,
      },
      edgeUrl: this.edgeUrl,
      adminToken: this.secrets.adminToken,
      demo: { address: `${user}@${domain}`, password: this.secrets.demoPassword, domain },
      certificate: this.certificate.certFile,
      dataDir: this.options.dataDir,
    };
  }
}

async function loadOrCreateSecrets(path: string): Promise<Secrets> {
  if (existsSync(path)) return JSON.parse(await readFile(path, "utf8")) as Secrets;
  const secrets: Secrets = {
    adminToken: randomBytes(24).toString("base64url"),
    relayKey: randomBytes(24).toString("base64url"),
    demoPassword: randomBytes(9).toString("base64url"),
  };
  await writeFile(path, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}
