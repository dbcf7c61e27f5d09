/**
 * DNS for the doctor: the resolvers the operator names (`--resolver ip[:port]`, else the
 * system's), with a bounded timeout, and answers as values rather than exceptions.
 *
 * Callers may rely on: every lookup resolves (never rejects) to `{ ok: true, values }` — values
 * may be empty only when `ok` is false — or `{ ok: false, missing, error }` where `missing` means
 * the resolver said the name or type does not exist (NXDOMAIN/NODATA: "publish it") and anything
 * else (timeout, SERVFAIL, refused) is a resolver failure named in `error`; TXT answers come back
 * with each record's character-strings joined, as RFC 7208/6376/7489/8461/8460 read them.
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

export type Answer<T> = { ok: true; values: T[] } | { ok: false; missing: boolean; error: string };

export interface DoctorResolver {
  /** "system" or the servers given. */
  describe: string;
  txt(name: string): Promise<Answer<string>>;
  mx(name: string): Promise<Answer<{ exchange: string; priority: number }>>;
  srv(name: string): Promise<Answer<{ name: string; port: number; priority: number; weight: number }>>;
  cname(name: string): Promise<Answer<string>>;
  /** A and AAAA together; missing only when neither exists. */
  addresses(name: string): Promise<Answer<string>>;
  ptr(address: string): Promise<Answer<string>>;
}

const MISSING = new Set(["ENOTFOUND", "ENODATA"]);
const REASONS: Record<string, string> = {
  ENOTFOUND: "no such name (NXDOMAIN)",
  ENODATA: "no record of that type",
  ETIMEOUT: "the resolver timed out",
  ESERVFAIL: "the resolver answered SERVFAIL (a DNSSEC or server problem)",
  EREFUSED: "the resolver refused the query",
  ECONNREFUSED: "the resolver is not reachable",
};

/** `ip`, `ip:port`, `[v6]:port` or bare `v6` → the form Resolver#setServers takes. */
export function parseResolverAddress(text: string): string | null {
  if (isIP(text)) return text;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6 && isIP(v6[1]!) === 6) return v6[2] ? `[${v6[1]}]:${v6[2]}` : v6[1]!;
  const v4 = /^([\d.]+):(\d+)$/.exec(text);
  if (v4 && isIP(v4[1]!) === 4 && Number(v4[2]) > 0 && Number(v4[2]) < 65536) return text;
  return null;
}

export function createResolver(servers: string[], timeoutMs: number): DoctorResolver {
  // Two tries of half the budget each: one lost UDP packet is not a finding, and a lookup still
  // ends within about the timeout the operator gave.
  const resolver = new Resolver({ timeout: Math.max(100, Math.ceil(timeoutMs / 2)), tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);

  const ask = async <T>(fn: () => Promise<T[]>): Promise<Answer<T>> => {
    try {
      const values = await fn();
      return values.length > 0 ? { ok: true, values } : { ok: false, missing: true, error: REASONS.ENODATA! };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      return { ok: false, missing: MISSING.has(code), error: REASONS[code] ?? `lookup failed (${code || (err as Error).message})` };
    }
  };

  return {
    describe: servers.length > 0 ? servers.join(", ") : "the system resolver",
    txt: (name) => ask(async () => (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""))),
    mx: (name) => ask(() => resolver.resolveMx(name)),
    srv: (name) => ask(() => resolver.resolveSrv(name)),
    cname: (name) => ask(() => resolver.resolveCname(name)),
    // resolvePtr, not reverse(): c-ares answers reverse() from /etc/hosts first, which says
    // nothing about what the world sees.
    ptr: (address) => ask(() => resolver.resolvePtr(reverseName(address))),
    async addresses(name) {
      const [v4, v6] = await Promise.all([ask(() => resolver.resolve4(name)), ask(() => resolver.resolve6(name))]);
      if (v4.ok || v6.ok) return { ok: true, values: [...(v4.ok ? v4.values : []), ...(v6.ok ? v6.values : [])] };
      // A failure on either side is the one worth reporting over a plain "missing".
      return !v4.missing ? v4 : v6;
    },
  };
}

/** The reverse-DNS name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const h = groups(head);
  const t = groups(tail);
  const all = address.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return `${[...all.map((g) => g.padStart(4, "0")).join("")].reverse().join(".")}.ip6.arpa`;
}

/** Lower-case, without the final dot: how names are compared. */
export function canonicalName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, "");
}
