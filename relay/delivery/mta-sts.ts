/**
 * MTA-STS for outbound delivery (RFC 8461): discover the policy id in `_mta-sts.<domain>`,
 * fetch the policy over HTTPS from `mta-sts.<domain>`, cache it by id for max_age.
 *
 * mailauth reads the TXT record, parses the policy and matches MX names; the HTTPS fetch is
 * ours because it must use our resolver, our trust store and (in tests) another port.
 *
 * Callers may rely on (RFC 8461 §3.3, §5.1): a cached, unexpired policy is used whenever the
 * record or the policy host cannot be reached, and is re-fetched only when the id in DNS
 * changes; with nothing cached, a discovery or fetch failure means "no policy" (deliver as
 * opportunistic TLS) and is returned as `failure` so it is reported for TLS-RPT.
 */
import { request } from "node:https";
import { createRequire } from "node:module";
import type { MTASTSPolicy } from "mailauth";
import type { TlsResultType } from "../../common/contract.ts";
import type { DeliveryDns } from "./dns.ts";

const require = createRequire(import.meta.url);
const sts = require("mailauth/lib/mta-sts.js") as typeof import("mailauth/lib/mta-sts.js");

export interface StsPolicy {
  id: string;
  mode: "enforce" | "testing" | "none";
  mx: string[];
  maxAge: number;
  /** The policy lines, as TLS-RPT's policy-string wants them. */
  lines: string[];
  expires: number;
}

export type StsLookup =
  | { kind: "none"; failure?: { result: TlsResultType; detail: string } }
  | { kind: "policy"; policy: StsPolicy };

const MAX_POLICY_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 20_000;

export interface MtaStsOptions {
  port: number;
  ca: string[];
  now?: () => number;
}

export class MtaStsPolicies {
  readonly #dns: DeliveryDns;
  readonly #options: MtaStsOptions;
  readonly #cache = new Map<string, StsPolicy>();

  constructor(dns: DeliveryDns, options: MtaStsOptions) {
    this.#dns = dns;
    this.#options = options;
  }

  async lookup(domain: string): Promise<StsLookup> {
    const now = (this.#options.now ?? Date.now)();
    const cachedEntry = this.#cache.get(domain);
    const cached = cachedEntry && cachedEntry.expires > now ? cachedEntry : undefined;
    const fallback = (failure?: { result: TlsResultType; detail: string }): StsLookup =>
      cached ? { kind: "policy", policy: cached } : { kind: "none", failure };

    let id: string | false;
    try {
      id = await sts.resolvePolicy(domain, { resolver: this.#dns.mailauthResolver as never });
    } catch (err) {
      return fallback({ result: "sts-policy-fetch-error", detail: `_mta-sts.${domain}: ${(err as Error).message}` });
    }
    if (!id) return fallback();
    if (cached && cached.id === id) return { kind: "policy", policy: cached };

    let text: string;
    try {
      text = await this.#fetch(domain);
    } catch (err) {
      const detail = `https://mta-sts.${domain}/.well-known/mta-sts.txt: ${(err as Error).message}`;
      return fallback({ result: isCertificateError(err) ? "sts-webpki-invalid" : "sts-policy-fetch-error", detail });
    }
    let parsed: MTASTSPolicy;
    try {
      parsed = sts.parsePolicy(text);
    } catch (err) {
      return fallback({ result: "sts-policy-invalid", detail: (err as Error).message });
    }
    const maxAge = parsed.maxAge ?? 0;
    const policy: StsPolicy = {
      id,
      mode: parsed.mode,
      mx: parsed.mx ?? [],
      maxAge,
      lines: text.split(/\r?\n/).filter((l) => l.trim() !== ""),
      expires: now + maxAge * 1000,
    };
    this.#cache.set(domain, policy);
    return { kind: "policy", policy };
  }

  /** Does the policy allow this MX host name (RFC 8461 §4.1)? */
  static allows(policy: StsPolicy, mxHost: string): boolean {
    return sts.validateMx(mxHost, { id: policy.id, mode: policy.mode, mx: policy.mx, maxAge: policy.maxAge }).valid;
  }

  /** GET with no redirects, 200 and text/plain only, bounded in size and time (RFC 8461 §3.3). */
  async #fetch(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    const addresses = await this.#dns.addresses(host);
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: addresses[0],
          port: this.#options.port,
          servername: host,
          path: "/.well-known/mta-sts.txt",
          headers: { host },
          ca: this.#options.ca,
          rejectUnauthorized: true,
          agent: false,
          timeout: FETCH_TIMEOUT_MS,
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`HTTP ${res.statusCode}`));
            return;
          }
          if (!/^text\/plain\b/i.test(res.headers["content-type"] ?? "")) {
            res.resume();
            reject(new Error(`content-type ${res.headers["content-type"] ?? "missing"}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_POLICY_BYTES) {
              req.destroy(new Error("policy larger than 64 KiB"));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", reject);
      req.end();
    });
  }
}

function isCertificateError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}
