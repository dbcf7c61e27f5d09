/**
 * TLS on the relay's ports, as a sending MTA or a mail client meets it: SMTP with STARTTLS (25,
 * 587) or implicit TLS (465, 993), then the certificate judged against the host name.
 *
 * Callers may rely on: `probeTls` never throws and never outlives `timeoutMs` (one budget for the
 * whole dialogue: connect, greeting, EHLO, STARTTLS, handshake); it verifies nothing itself
 * (rejectUnauthorized off) so the certificate can always be reported, and hands back the
 * verifier's own verdict (`authorizationError`) for the caller to judge; `tlsCheck` turns a probe
 * into one doctor line. It sends QUIT and closes the connection after the handshake.
 */
import { isIP, connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, rootCertificates, type TLSSocket } from "node:tls";
import type { X509Certificate } from "node:crypto";
import type { CheckResult } from "./report.ts";

export type TlsMode = "starttls" | "implicit";

export interface TlsProbeOptions {
  /** The name the certificate must carry (SNI too). */
  host: string;
  /** Where to connect (already resolved). */
  address: string;
  port: number;
  mode: TlsMode;
  /** Extra trusted roots (PEM), added to the system's. */
  ca?: string[];
  timeoutMs: number;
}

export type TlsProbeResult =
  | { ok: false; stage: "connect" | "greeting" | "ehlo" | "starttls" | "handshake"; error: string; extensions?: string[] }
  | {
      ok: true;
      leaf: X509Certificate;
      /** What node's verifier said about the chain and the name (null: trusted and matching). */
      authorizationError: string | null;
      /** The names check alone, so a bad chain does not hide a bad name. */
      nameError: string | null;
      protocol: string | null;
      extensions?: string[];
    };

export function trustedRoots(extra: string[] = []): string[] {
  return [...rootCertificates, ...extra];
}

/** Reads SMTP replies (RFC 5321 §4.2: `code-text` continuation lines, `code text` the last). */
class ReplyReader {
  #buffer = "";
  #lines: string[] = [];
  #waiter: ((reply: { code: number; lines: string[] }) => void) | null = null;

  constructor(socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      // A server that never ends a line must not grow us without bound.
      if (this.#buffer.length > 64 * 1024) socket.destroy(new Error("reply line too long"));
      this.#drain();
    });
  }

  #drain(): void {
    for (let nl = this.#buffer.indexOf("\n"); nl >= 0 && this.#waiter; nl = this.#buffer.indexOf("\n")) {
      const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(nl + 1);
      this.#lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        const lines = this.#lines;
        this.#lines = [];
        const waiter = this.#waiter;
        this.#waiter = null;
        waiter({ code: Number(line.slice(0, 3)) || 0, lines: lines.map((l) => l.slice(4)) });
      }
    }
  }

  next(): Promise<{ code: number; lines: string[] }> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
      this.#drain();
    });
  }
}

export async function probeTls(opts: TlsProbeOptions): Promise<TlsProbeResult> {
  let stage: Extract<TlsProbeResult, { ok: false }>["stage"] = "connect";
  let extensions: string[] | undefined;
  const sockets: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<TlsProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, stage, error: `no answer within ${seconds(opts.timeoutMs)}`, extensions }), opts.timeoutMs);
  });
  const failed = (error: unknown): TlsProbeResult => ({ ok: false, stage, error: describeError(error), extensions });

  const dialogue = async (): Promise<TlsProbeResult> => {
    // Tracked before it connects, so a connect that completes after the timeout is still closed.
    const plain = tcpConnect({ host: opts.address, port: opts.port });
    sockets.push(plain);
    await connected(plain);
    if (opts.mode === "starttls") {
      const reader = new ReplyReader(plain);
      const closed = new Promise<never>((_, reject) => {
        plain.once("error", reject);
        plain.once("close", () => reject(new Error("the server closed the connection")));
      });
      closed.catch(() => {});
      const ask = (line: string | null) => {
        if (line !== null) plain.write(`${line}\r\n`);
        return Promise.race([reader.next(), closed]);
      };
      stage = "greeting";
      const greeting = await ask(null);
      if (greeting.code !== 220) return { ok: false, stage, error: `greeting ${greeting.code} ${greeting.lines.join(" ")}` };
      stage = "ehlo";
      const ehlo = await ask(`EHLO [${plain.localAddress ?? "127.0.0.1"}]`);
      if (ehlo.code !== 250) return { ok: false, stage, error: `EHLO answered ${ehlo.code} ${ehlo.lines.join(" ")}` };
      extensions = ehlo.lines.slice(1).map((l) => l.split(" ")[0]!.toUpperCase());
      if (!extensions.includes("STARTTLS")) return { ok: false, stage, error: "EHLO does not offer STARTTLS", extensions };
      stage = "starttls";
      const go = await ask("STARTTLS");
      if (go.code !== 220) return { ok: false, stage, error: `STARTTLS answered ${go.code} ${go.lines.join(" ")}`, extensions };
      plain.removeAllListeners("data");
      plain.removeAllListeners("error");
      plain.removeAllListeners("close");
    }
    plain.on("error", () => {});
    stage = "handshake";
    const shook = await handshake(opts, plain);
    sockets.push(shook.socket);
    if (!shook.leaf) return { ok: false, stage, error: "the server sent no certificate", extensions };
    // X509Certificate#checkHost: RFC 6125 matching, wildcards included, the CN only without SANs.
    const named = shook.leaf.checkHost(opts.host) !== undefined;
    const result: TlsProbeResult = {
      ok: true,
      leaf: shook.leaf,
      authorizationError: shook.authorizationError,
      nameError: named ? null : `no name of the certificate matches ${opts.host}`,
      protocol: shook.protocol,
      ...(extensions ? { extensions } : {}),
    };
    if (opts.mode === "starttls") shook.socket.end("QUIT\r\n");
    return result;
  };

  try {
    return await Promise.race([dialogue().catch(failed), timeout]);
  } finally {
    clearTimeout(timer);
    // Give a polite QUIT a moment to leave, but never keep the process alive for it.
    setTimeout(() => sockets.forEach((s) => s.destroy()), 200).unref();
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve();
    });
    socket.once("error", reject);
  });
}

interface Handshake {
  socket: TLSSocket;
  leaf: X509Certificate | undefined;
  authorizationError: string | null;
  protocol: string | null;
}

/** Everything about the peer is read in the secureConnect event: once the socket closes it is gone. */
function handshake(opts: TlsProbeOptions, socket: Socket): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket,
      // RFC 6066 §3: SNI carries host names only (dns --tlsa-from may be given an address).
      ...(isIP(opts.host) ? {} : { servername: opts.host }),
      ca: trustedRoots(opts.ca),
      // Judged by the caller from authorizationError: a refused handshake would hide the certificate.
      rejectUnauthorized: false,
    });
    secure.once("secureConnect", () => {
      secure.off("error", reject);
      secure.on("error", () => {});
      resolve({
        socket: secure,
        leaf: secure.getPeerX509Certificate(),
        authorizationError: secure.authorized ? null : String(secure.authorizationError ?? "unverified"),
        protocol: secure.getProtocol(),
      });
    });
    secure.once("error", reject);
  });
}

export function describeError(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === "ECONNREFUSED") return "connection refused";
  if (err?.code === "EHOSTUNREACH" || err?.code === "ENETUNREACH") return "host unreachable";
  if (err?.code === "ECONNRESET") return "connection reset";
  return err?.message ?? String(error);
}

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const DAY_MS = 86_400_000;
/** Renew before this: ACME clients renew at 30 days left, so 14 means renewal is failing. */
export const EXPIRY_WARNING_DAYS = 14;

const VERIFY_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: "the certificate has expired",
  CERT_NOT_YET_VALID: "the certificate is not valid yet",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the chain ends in an untrusted self-signed root",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the chain does not lead to a trusted root (intermediate missing?)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the chain does not lead to a trusted root (intermediate missing?)",
};

/**
 * One doctor line for a TLS endpoint: the chain verifies against the trusted roots, the
 * certificate names `host`, and it does not expire within EXPIRY_WARNING_DAYS.
 */
export function tlsCheck(check: string, opts: TlsProbeOptions, probe: TlsProbeResult, now = Date.now()): CheckResult {
  const where = `${opts.host} port ${opts.port}`;
  if (!probe.ok) {
    if (probe.stage === "ehlo" && probe.extensions && !probe.extensions.includes("STARTTLS")) {
      return {
        check,
        ok: false,
        found: `${where}: EHLO does not offer STARTTLS (offers ${probe.extensions.join(" ") || "nothing"})`,
        fix: `give the relay a certificate for ${opts.host} (relay config tls.certFile/tls.keyFile) so it offers STARTTLS; senders enforcing MTA-STS will not deliver in clear text`,
      };
    }
    const fix =
      probe.stage === "connect" || probe.stage === "greeting"
        ? `check that the relay runs and that TCP port ${opts.port} on ${opts.address} is open to the internet (firewall, the provider's port blocks)`
        : `check the relay's TLS setup on port ${opts.port} (relay config tls.certFile/tls.keyFile) and its log`;
    return { check, ok: false, found: `${where} [${opts.address}]: ${probe.stage} failed: ${probe.error}`, fix };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  const daysLeft = Math.floor((probe.leaf.validToDate.getTime() - now) / DAY_MS);
  const names = probe.leaf.subjectAltName ?? probe.leaf.subject;
  const chainError = probe.authorizationError && probe.authorizationError !== "ERR_TLS_CERT_ALTNAME_INVALID" ? probe.authorizationError : null;
  if (chainError && chainError !== "CERT_HAS_EXPIRED") {
    problems.push(VERIFY_REASONS[chainError] ?? `the chain does not verify (${chainError})`);
    fixes.push(`install a certificate for ${opts.host} from a public CA (e.g. Let's Encrypt) with its full chain (intermediates included)`);
  }
  if (probe.nameError) {
    problems.push(`the certificate names ${names}, not ${opts.host}`);
    fixes.push(`issue a certificate whose subjectAltName includes ${opts.host}`);
  }
  if (daysLeft < 0 || chainError === "CERT_HAS_EXPIRED") {
    const ago = Math.floor((now - probe.leaf.validToDate.getTime()) / DAY_MS);
    problems.push(`the certificate expired ${ago < 1 ? "less than a day" : `${ago} day${ago === 1 ? "" : "s"}`} ago (${probe.leaf.validTo})`);
    fixes.push(`renew the certificate for ${opts.host} and restart the relay`);
  } else if (daysLeft < EXPIRY_WARNING_DAYS) {
    problems.push(`the certificate expires in ${daysLeft} day${daysLeft === 1 ? "" : "s"} (${probe.leaf.validTo})`);
    fixes.push(`renew the certificate for ${opts.host} now (renewal should happen at 30 days left: check the ACME client)`);
  }
  const issuer = /CN=([^\n,]+)/.exec(probe.leaf.issuer)?.[1] ?? probe.leaf.issuer.replace(/\n/g, ", ");
  const how = opts.mode === "starttls" ? "STARTTLS" : "TLS";
  if (problems.length > 0) return { check, ok: false, found: `${where} (${how}): ${problems.join("; ")}`, fix: [...new Set(fixes)].join("; ") };
  return {
    check,
    ok: true,
    found: `${where} (${how}, ${probe.protocol ?? "TLS"}): certificate for ${names} by ${issuer}, ${daysLeft} days left`,
    fix: null,
  };
}
