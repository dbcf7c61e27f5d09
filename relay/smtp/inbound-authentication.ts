/**
 * Authentication of mail arriving at the MX (end of DATA): SPF (client IP, HELO, MAIL FROM),
 * DKIM (every signature), DMARC (alignment, policy; `pct` is applied by the verdict), ARC (chain
 * verification) through mailauth, plus iprev (RFC 8601 §3, forward-confirmed reverse DNS) as
 * information. Every lookup goes through the injected resolver.
 *
 * Callers may rely on:
 * - `authenticateInbound` never throws for DNS trouble: lookups that fail for a temporary reason
 *   come back as `temperror` results, and checks that take longer than `timeoutMs` as a whole
 *   are reported as temperror (the message is then accepted on the other checks).
 * - `field` is one complete `Authentication-Results: <hostname>; …` header field ending in CRLF
 *   (mailauth's, with an iprev result appended); `authentication` is the contract's summary of it
 *   with the verdict (`decideVerdict`).
 * - `removeOwnAuthenticationResults` drops only Authentication-Results fields whose authserv-id
 *   is our hostname (RFC 8601 §5: they are forged, nothing inside our boundary added them
 *   before us) and leaves every other octet of the message as it was.
 */
import { isIP } from "node:net";
import { authenticate, type AuthenticateResult, type DNSResolver } from "mailauth";
import type { InboundAuthentication, InboundPolicy } from "../../common/contract.ts";
import { decideVerdict, type InboundVerdict } from "./inbound-verdict.ts";

/** mailauth's resolver shape: `(name, rrtype)`, Node's error codes (ENOTFOUND/ENODATA = no record). */
export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface AuthenticationContext {
  /** Our hostname: the authserv-id of the Authentication-Results field. */
  hostname: string;
  resolver: MailauthResolver;
  /** Budget for all checks of one message; default 30 s. */
  timeoutMs?: number;
  /** Uniform in [0, 1), for DMARC pct sampling; default Math.random. */
  random?: () => number;
}

export interface AuthenticationInput {
  raw: Buffer;
  remoteAddress: string;
  heloName: string;
  /** MAIL FROM, "" for the null reverse-path. */
  mailFrom: string;
  /** The accepted recipients' domain policies. */
  policies: InboundPolicy[];
  /** DNSBL zones that list the client. */
  dnsblListings: string[];
}

export interface AuthenticationOutcome {
  /** `Authentication-Results: …\r\n`, to prepend. */
  field: string;
  verdict: InboundVerdict;
  /** What goes to the edge with the delivery (verdict "accept" or "quarantine"). */
  authentication: InboundAuthentication;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const HEADER_LIMIT = 16_000;

export async function authenticateInbound(ctx: AuthenticationContext, input: AuthenticationInput): Promise<AuthenticationOutcome> {
  const resolver = ctx.resolver as DNSResolver;
  const checks = Promise.all([
    authenticate(input.raw, {
      ip: input.remoteAddress,
      helo: input.heloName || undefined,
      sender: input.mailFrom,
      mta: ctx.hostname,
      resolver,
      // Only what this session saw counts: never the client-supplied Received/Return-Path.
      trustReceived: false,
      // BIMI shows logos in clients; it is no part of the verdict and costs lookups.
      disableBimi: true,
    }),
    iprev(input.remoteAddress, ctx.resolver),
  ]);
  const settled = await withTimeout(checks, ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  let value: string;
  let summary: Omit<InboundAuthentication, "header" | "verdict" | "reasons" | "dnsbl">;
  let dmarcPct: number | null = null;
  let dmarcTestMode = false;
  let dmarcOrgDomain: string | null = null;
  let spfDomain: string | null = null;
  let dkimResults: { result: string; domain: string }[] = [];
  if (settled === TIMED_OUT) {
    value = `${ctx.hostname};\r\n spf=temperror (checks timed out);\r\n dkim=temperror (checks timed out);\r\n dmarc=temperror (checks timed out)`;
    summary = { spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "none", iprev: "temperror", dmarcPolicy: null };
    // Nothing is known, so nothing is enforced (the dkim entry only keeps "all signatures fail" false).
    dkimResults = [{ result: "temperror", domain: "" }];
  } else {
    const [result, rev] = settled;
    value = `${authenticationResultsValue(result)};\r\n ${rev.info}`;
    dkimResults = result.dkim.results
      .filter((r) => r.status.result !== "none")
      .map((r) => ({ result: r.status.result, domain: r.signingDomain ?? "" }));
    spfDomain = result.spf ? result.spf.domain : null;
    const dmarc = result.dmarc;
    const hasPolicy = dmarc && (dmarc.status.result === "pass" || dmarc.status.result === "fail");
    summary = {
      spf: result.spf ? result.spf.status.result : "none",
      dkim: dkimSummary(dkimResults.map((r) => r.result)),
      dmarc: dmarc ? dmarc.status.result : "none",
      arc: result.arc ? result.arc.status.result : "none",
      iprev: rev.result,
      dmarcPolicy: hasPolicy ? dmarc.policy : null,
    };
    if (hasPolicy) {
      dmarcPct = pctOf(dmarc.rr);
      dmarcTestMode = dmarc.testMode;
      dmarcOrgDomain = dmarc.domain;
    }
  }

  const verdict = decideVerdict({
    policies: input.policies,
    spf: summary.spf,
    spfDomain,
    dkim: dkimResults,
    dmarc: summary.dmarc,
    dmarcOrgDomain,
    dmarcPolicy: summary.dmarcPolicy,
    dmarcPct,
    dmarcTestMode,
    pctSample: (ctx.random ?? Math.random)() * 100,
    dnsbl: input.dnsblListings,
  });
  const authentication: InboundAuthentication = {
    header: value.length > HEADER_LIMIT ? value.slice(0, HEADER_LIMIT) : value,
    ...summary,
    dnsbl: input.dnsblListings.slice(0, 20),
    verdict: verdict.action === "quarantine" ? "quarantine" : "accept",
    reasons: verdict.action === "quarantine" ? verdict.reasons.slice(0, 10) : [],
  };
  return { field: `Authentication-Results: ${value}\r\n`, verdict, authentication };
}

/** The value of mailauth's Authentication-Results field (it also builds Received-SPF, which we leave out). */
function authenticationResultsValue(result: AuthenticateResult): string {
  const fields = result.headers.split(/\r\n(?![ \t])/);
  const ar = fields.find((f) => /^Authentication-Results:/i.test(f));
  if (!ar) throw new Error("mailauth built no Authentication-Results field");
  return ar.slice(ar.indexOf(":") + 1).trim();
}

/** One keyword for all signatures: pass if any passes, none if unsigned, else the most telling failure. */
function dkimSummary(results: string[]): string {
  if (results.length === 0) return "none";
  for (const r of ["pass", "temperror", "fail"]) if (results.includes(r)) return r;
  return results[0]!;
}

function pctOf(record: string | undefined): number | null {
  const m = /(?:^|;)\s*pct\s*=\s*(\d{1,3})\s*(?:;|$)/i.exec(record ?? "");
  return m ? Math.min(100, Number(m[1])) : null;
}

// ---- iprev (RFC 8601 §3) -----------------------------------------------------------------

export interface IprevResult {
  result: "pass" | "fail" | "temperror" | "permerror";
  /** The names the PTR lookup gave (at most MAX_PTR_NAMES checked). */
  names: string[];
  /** The resinfo for Authentication-Results, e.g. `iprev=pass policy.iprev=192.0.2.1 (mail.example.net)`. */
  info: string;
}

const NO_RECORD = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "NODATA"]);
/** RFC 8601 §3: limit the names checked from one PTR answer. */
const MAX_PTR_NAMES = 10;

/**
 * Forward-confirmed reverse DNS: the client address maps (PTR) to names, one of which maps
 * (A/AAAA) back to it. No PTR, or no name that maps back: fail; a temporary DNS error: temperror.
 */
export async function iprev(ip: string, resolver: MailauthResolver): Promise<IprevResult> {
  const family = isIP(ip);
  const done = (result: IprevResult["result"], names: string[], comment?: string): IprevResult => ({
    result,
    names,
    info: `iprev=${result} policy.iprev=${family ? ip : "unknown"}${comment ? ` (${comment})` : ""}`,
  });
  if (!family) return done("permerror", [], "not an IP address");
  let names: string[];
  try {
    names = ((await resolver(reverseName(ip), "PTR")) as string[]).map((n) => String(n).replace(/\.$/, ""));
  } catch (err) {
    if (NO_RECORD.has(errorCode(err))) return done("fail", [], "no PTR record");
    return done("temperror", [], "PTR lookup failed");
  }
  if (names.length === 0) return done("fail", [], "no PTR record");
  const wanted = canonicalIp(ip);
  let temporary = false;
  for (const name of names.slice(0, MAX_PTR_NAMES)) {
    try {
      const addresses = (await resolver(name, family === 4 ? "A" : "AAAA")) as string[];
      if (addresses.some((a) => canonicalIp(String(a)) === wanted)) return done("pass", names, sanitizeComment(name));
    } catch (err) {
      if (!NO_RECORD.has(errorCode(err))) temporary = true;
    }
  }
  return temporary ? done("temperror", names, "forward lookup failed") : done("fail", names, "no name maps back to the address");
}

function errorCode(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : "";
}

/** 192.0.2.1 → 1.2.0.192.in-addr.arpa; IPv6 → nibbles under ip6.arpa. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  return `${expandIpv6(ip).replace(/:/g, "").split("").reverse().join(".")}.ip6.arpa`;
}

function canonicalIp(ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped) return v4mapped[1]!;
  return isIP(ip) === 6 ? expandIpv6(ip) : ip;
}

/** Eight groups of four lowercase hex digits. */
function expandIpv6(ip: string): string {
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0")).join(":");
}

/** A DNS name inside a comment: nothing that could close it or break the line. */
function sanitizeComment(s: string): string {
  return s.replace(/[^\x21-\x7e]|[()\\]/g, "?");
}

// ---- forged Authentication-Results (RFC 8601 §5) -------------------------------------------

/**
 * Removes the Authentication-Results fields claiming `authservId` (compared case-insensitively,
 * a trailing dot ignored) from the header section; everything else stays byte for byte.
 */
export function removeOwnAuthenticationResults(raw: Buffer, authservId: string): { message: Buffer; removed: number } {
  const text = raw.toString("latin1");
  const end = headerEnd(text);
  const header = text.slice(0, end);
  // Fields: a line that does not start with WSP begins a new one; folded lines stay with theirs.
  const fields: string[] = [];
  for (const line of header.split(/(?<=\n)/)) {
    if (line === "") continue;
    if (fields.length > 0 && /^[ \t]/.test(line)) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  const ours = normalizeId(authservId);
  let removed = 0;
  const kept = fields.filter((field) => {
    const m = /^authentication-results[ \t]*:/i.exec(field);
    if (!m) return true;
    const id = authservIdOf(field.slice(m[0].length));
    if (id !== null && normalizeId(id) === ours) {
      removed++;
      return false;
    }
    return true;
  });
  if (removed === 0) return { message: raw, removed };
  return { message: Buffer.from(kept.join("") + text.slice(end), "latin1"), removed };
}

/** Where the header section ends (the offset of the empty line), or the whole message when it has none. */
function headerEnd(text: string): number {
  if (text.startsWith("\r\n")) return 0;
  if (text.startsWith("\n")) return 0;
  const m = /\r?\n\r?\n/.exec(text);
  return m ? m.index + m[0].indexOf("\n") + 1 : text.length;
}

function normalizeId(id: string): string {
  return id.toLowerCase().replace(/\.$/, "");
}

/** The authserv-id of an Authentication-Results value (RFC 8601 §2.2: a value, i.e. token or quoted-string, after CFWS). */
export function authservIdOf(value: string): string | null {
  const unfolded = value.replace(/\r?\n/g, "");
  let i = 0;
  const skipCfws = () => {
    for (;;) {
      while (i < unfolded.length && /[ \t]/.test(unfolded[i]!)) i++;
      if (unfolded[i] !== "(") return;
      let depth = 0;
      for (; i < unfolded.length; i++) {
        const c = unfolded[i];
        if (c === "\\") i++;
        else if (c === "(") depth++;
        else if (c === ")" && --depth === 0) {
          i++;
          break;
        }
      }
    }
  };
  skipCfws();
  if (unfolded[i] === '"') {
    let out = "";
    for (i++; i < unfolded.length && unfolded[i] !== '"'; i++) {
      if (unfolded[i] === "\\") i++;
      out += unfolded[i] ?? "";
    }
    return out;
  }
  const token = /^[^\s;()"]+/.exec(unfolded.slice(i));
  return token ? token[0] : null;
}

// ---- helpers ---------------------------------------------------------------------------

const TIMED_OUT = Symbol("timed out");

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  work.catch(() => {}); // a late failure after the timeout must not go unhandled
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
