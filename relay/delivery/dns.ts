/**
 * The DNS outbound delivery needs: MX, addresses, TXT (MTA-STS discovery) and TLSA with the
 * resolver's DNSSEC verdict (DANE).
 *
 * Callers may rely on: "no such name" and "no records of that type" are answers (empty / null),
 * never errors; anything else (SERVFAIL, timeouts, refused) throws a {@link DnsTemporaryError},
 * which delivery turns into a deferral. Every query goes to the configured servers (tests point
 * them at a local zone), never to the system resolver behind their back.
 *
 * DANE trusts the AD bit of the configured resolver, as Postfix does (smtp_dns_support_level =
 * dnssec): point the config's `dnsServers` at a validating resolver on the same host.
 */
import { createSocket } from "node:dgram";
import { getServers, promises as dnsPromises } from "node:dns";
import { randomInt } from "node:crypto";
import dnsPacket from "dns-packet";

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

/** secure: validated by DNSSEC; insecure: answered without validation (DANE does not apply); bogus: validation failed. */
export type TlsaLookup =
  | { status: "secure"; records: TlsaRecord[] }
  | { status: "insecure" }
  | { status: "bogus"; detail: string };

export class DnsTemporaryError extends Error {
  override readonly name = "DnsTemporaryError";
}

export interface DeliveryDns {
  /** null: the domain has no MX records (or does not exist). */
  mx(domain: string): Promise<MxRecord[] | null>;
  /** IPv4 then IPv6 addresses; empty when the host has none. */
  addresses(host: string): Promise<string[]>;
  /** null: no such name / no TXT records. */
  txt(name: string): Promise<string[][] | null>;
  tlsa(name: string): Promise<TlsaLookup>;
  /** The same lookups in the `resolver(name, rrtype)` shape mailauth expects. */
  mailauthResolver(name: string, rrtype: string): Promise<unknown>;
}

const NO_ANSWER = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "NODATA"]);
const QUERY_TIMEOUT_MS = 5_000;

export function createDeliveryDns(servers: string[]): DeliveryDns {
  const resolver = new dnsPromises.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  const effectiveServers = servers.length > 0 ? servers : getServers();

  async function orNull<T>(lookup: Promise<T>, what: string): Promise<T | null> {
    try {
      return await lookup;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (NO_ANSWER.has(code)) return null;
      throw new DnsTemporaryError(`${what}: ${code || (err as Error).message}`, { cause: err });
    }
  }

  const dns: DeliveryDns = {
    async mx(domain) {
      const records = await orNull(resolver.resolveMx(domain), `MX ${domain}`);
      return records && records.length > 0 ? records.map((r) => ({ exchange: r.exchange, priority: r.priority })) : null;
    },
    async addresses(host) {
      const [v4, v6] = await Promise.all([
        orNull(resolver.resolve4(host), `A ${host}`),
        orNull(resolver.resolve6(host), `AAAA ${host}`),
      ]);
      return [...(v4 ?? []), ...(v6 ?? [])];
    },
    async txt(name) {
      const records = await orNull(resolver.resolveTxt(name), `TXT ${name}`);
      return records && records.length > 0 ? records : null;
    },
    tlsa: (name) => queryTlsa(effectiveServers[0] ?? "127.0.0.1", name),
    async mailauthResolver(name, rrtype) {
      // mailauth reads ENOTFOUND/ENODATA as "no record", so pass Node's errors through.
      switch (rrtype) {
        case "TXT":
          return resolver.resolveTxt(name);
        case "MX":
          return resolver.resolveMx(name);
        case "A":
          return resolver.resolve4(name);
        case "AAAA":
          return resolver.resolve6(name);
        default:
          return resolver.resolve(name, rrtype);
      }
    },
  };
  return dns;
}

/**
 * One TLSA query over UDP with the DO bit, reading the AD flag that Node's resolver hides.
 * Bogus data makes a validating resolver answer SERVFAIL (RFC 4035 §5.5).
 */
async function queryTlsa(server: string, name: string): Promise<TlsaLookup> {
  const { host, port } = splitServer(server);
  const query = dnsPacket.encode({
    type: "query",
    id: randomInt(0, 65536),
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type: "TLSA", name, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] }],
  });
  const reply = await udpExchange(host, port, query);
  const packet = dnsPacket.decode(reply) as dnsPacket.DecodedPacket & { rcode?: string };
  if (packet.rcode === "SERVFAIL") return { status: "bogus", detail: `TLSA ${name}: SERVFAIL` };
  if (packet.rcode !== "NOERROR" && packet.rcode !== "NXDOMAIN") {
    throw new DnsTemporaryError(`TLSA ${name}: ${packet.rcode}`);
  }
  if (!packet.flag_ad) return { status: "insecure" };
  const records: TlsaRecord[] = [];
  for (const answer of packet.answers ?? []) {
    if (answer.type !== "TLSA") continue;
    const data = answer.data;
    records.push({ usage: data.usage, selector: data.selector, matchingType: data.matchingType, data: data.certificate });
  }
  return { status: "secure", records };
}

function splitServer(server: string): { host: string; port: number } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  const parts = server.split(":");
  if (parts.length === 2) return { host: parts[0]!, port: Number(parts[1]) };
  return { host: server, port: 53 };
}

function udpExchange(host: string, port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => finish(new DnsTemporaryError(`DNS query to ${host}:${port} timed out`)), QUERY_TIMEOUT_MS);
    function finish(error: Error | null, reply?: Buffer): void {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(reply!);
    }
    socket.on("error", (err) => finish(new DnsTemporaryError(`DNS query to ${host}:${port}: ${err.message}`)));
    socket.on("message", (message) => {
      // A reply to another query (or spoofed noise) is not ours to read.
      if (message.length >= 2 && message.readUInt16BE(0) === id) finish(null, message);
    });
    socket.send(query, port, host);
  });
}
