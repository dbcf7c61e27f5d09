/**
 * DNS blocklist lookups for the MX (RFC 5782): a client IP is listed on a zone when
 * `<reversed IP>.<zone>` has an A record in 127.0.0.0/8.
 *
 * Callers may rely on: `listings(ip)` never rejects and never takes much longer than
 * `timeoutMs`; a zone that does not answer in time, answers with an error, or answers with an
 * address outside 127.0.0.0/8 or one of the 127.255.255.0/24 "query refused" codes (Spamhaus
 * answers those to open/public resolvers and over-quota users) counts as not listing the client,
 * so a broken list never blocks mail. Queries go to the relay's resolvers (`dnsServers`) only.
 */
import { promises as dnsPromises } from "node:dns";
import { isIPv4, isIPv6 } from "node:net";
import type { DnsblSettings } from "./limits.ts";

export interface Dnsbl {
  readonly zones: readonly string[];
  /** The zones (in configured order) that list `ip`. */
  listings(ip: string): Promise<string[]>;
}

export interface DnsblOptions extends DnsblSettings {
  /** Resolvers as `ip` or `ip:port`; empty: the system's. */
  servers: string[];
  /** A records of a name; injectable for tests. Default: node:dns Resolver on `servers`. */
  resolve4?: (name: string) => Promise<string[]>;
  log?: (line: string) => void;
}

const NOT_LISTED = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "NODATA"]);

export function createDnsbl(options: DnsblOptions): Dnsbl {
  const zones = options.zones.map((z) => z.replace(/\.$/, "").toLowerCase());
  const log = options.log ?? (() => {});
  let resolve4 = options.resolve4;
  if (!resolve4) {
    const resolver = new dnsPromises.Resolver({ timeout: options.timeoutMs, tries: 1 });
    if (options.servers.length > 0) resolver.setServers(options.servers);
    resolve4 = (name) => resolver.resolve4(name);
  }
  const lookup = resolve4;

  async function listedOn(name: string, zone: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    });
    try {
      const answer = await Promise.race([lookup(name), timeout]);
      if (answer === "timeout") {
        log(`dnsbl ${zone}: no answer for ${name} within ${options.timeoutMs} ms; treated as not listed`);
        return false;
      }
      const listed = answer.filter(isListingCode);
      if (listed.length < answer.length) log(`dnsbl ${zone}: ignored non-listing answer ${answer.join(",")} for ${name}`);
      return listed.length > 0;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (!NOT_LISTED.has(code)) log(`dnsbl ${zone}: lookup of ${name} failed (${code || String(err)}); treated as not listed`);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    zones,
    async listings(ip) {
      const reversed = reverseIp(ip);
      if (reversed === null || zones.length === 0) return [];
      const results = await Promise.all(zones.map((zone) => listedOn(`${reversed}.${zone}`, zone)));
      return zones.filter((_, i) => results[i]);
    },
  };
}

/** 127.0.0.0/8 except 127.255.255.0/24 (Spamhaus's error codes, RFC 5782 leaves the codes to the list). */
function isListingCode(address: string): boolean {
  return address.startsWith("127.") && !address.startsWith("127.255.255.");
}

/**
 * The DNSBL query prefix of an address: IPv4 octets reversed (`1.2.3.4` → `4.3.2.1`), IPv6 as 32
 * reversed nibbles (RFC 5782 §2.4); IPv4-mapped IPv6 is looked up as IPv4. null: not an IP.
 */
export function reverseIp(ip: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  if (isIPv4(ip)) return ip.split(".").reverse().join(".");
  if (!isIPv6(ip)) return null;
  const [head = "", tail = ""] = ip.split("::") as [string, string?];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = ip.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = ip.includes("::")
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null; // embedded IPv4 forms
  return groups
    .map((g) => g.toLowerCase().padStart(4, "0"))
    .join("")
    .split("")
    .reverse()
    .join(".");
}
