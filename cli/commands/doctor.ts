/**
 * `edgemail doctor <domain>`: the status check an operator runs after setting up DNS and the relay
 * (what Mail-in-a-Box's status page does, for edgemail): every record the edge expects, the
 * MTA-STS policy as senders fetch it, the MX hosts' addresses and reverse DNS, and TLS with a
 * verifiable, unexpired certificate on every port the relay serves.
 *
 *   edgemail doctor <domain> [--resolver ip[:port]]... [--ca file]... [--timeout 5s]
 *                            [--port smtp=25,submissions=465,submission=587,imaps=993,https=443]
 *
 * Callers may rely on: one line per check (cli/doctor/report.ts), or with --json an array of
 * { check, ok, found, fix }; exit 1 when any check fails, 0 when all pass, and the CliError codes
 * (2 usage, 3/4/5 the edge) before any check runs. Every network step is bounded by --timeout, so
 * a port that does not answer is a failed check, never a hang. Lookups go only to --resolver (else
 * the system resolver); certificates are trusted from the system store plus every --ca.
 */
import { readFile } from "node:fs/promises";
import { DnsRecordSet, type Domain } from "../../common/contract.ts";
import { CliError, usage } from "../admin-client.ts";
import { parseCommand, parseDuration, parseList } from "../args.ts";
import type { Command } from "../command.ts";
import { checkFcrdns, checkMxAddresses } from "../doctor/fcrdns.ts";
import { checkMtaSts } from "../doctor/mta-sts.ts";
import { checkRecords } from "../doctor/records.ts";
import { pass, printReport, type CheckResult } from "../doctor/report.ts";
import { canonicalName, createResolver, parseResolverAddress } from "../doctor/resolver.ts";
import { probeTls, tlsCheck, type TlsMode } from "../doctor/tls.ts";

const DEFAULT_PORTS = { smtp: 25, submissions: 465, submission: 587, imaps: 993, https: 443 };
type Service = keyof typeof DEFAULT_PORTS;
/** The relay's client ports, checked on the first MX host (RFC 8314: implicit TLS first). */
const CLIENT_SERVICES: { service: Service; mode: TlsMode }[] = [
  { service: "submissions", mode: "implicit" },
  { service: "submission", mode: "starttls" },
  { service: "imaps", mode: "implicit" },
];

function parsePorts(specs: string[]): Record<Service, number> {
  const ports = { ...DEFAULT_PORTS };
  for (const pair of specs.flatMap((s) => parseList(s, "--port"))) {
    const m = /^([a-z]+)=(\d{1,5})$/.exec(pair);
    if (!m || !(m[1]! in ports) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw usage(`--port ${pair}: expected <service>=<port> with service one of ${Object.keys(DEFAULT_PORTS).join(", ")}`);
    }
    ports[m[1] as Service] = Number(m[2]);
  }
  return ports;
}

export const doctorCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommand(
    args,
    {
      resolver: { type: "string", multiple: true, default: [] },
      ca: { type: "string", multiple: true, default: [] },
      port: { type: "string", multiple: true, default: [] },
      timeout: { type: "string", default: "5s" },
    },
    { min: 1, max: 1, names: "a domain" },
  );
  const domain = canonicalName(positionals[0]!);
  const timeoutSeconds = parseDuration(values.timeout, "--timeout");
  if (timeoutSeconds < 1 || timeoutSeconds > 600) throw usage(`--timeout: "${values.timeout}" is outside 1s to 10m`);
  const timeoutMs = timeoutSeconds * 1000;
  const ports = parsePorts(values.port);
  const servers: string[] = [];
  for (const text of values.resolver) {
    const server = parseResolverAddress(text);
    if (!server) throw usage(`--resolver ${text}: expected an IP address, ip:port or [ipv6]:port`);
    servers.push(server);
  }
  const ca: string[] = [];
  for (const file of values.ca) {
    try {
      ca.push(await readFile(file, "utf8"));
    } catch (err) {
      throw usage(`--ca ${file}: ${(err as Error).message}`);
    }
  }

  const client = await ctx.client();
  const path = `/domains/${encodeURIComponent(domain)}`;
  const [rawSet, info] = await Promise.all([client.call<unknown>("GET", `${path}/dns`), client.call<Domain>("GET", path)]);
  const checked = DnsRecordSet.safeParse(rawSet);
  if (!checked.success) throw new CliError(1, `the edge's DNS record set for ${domain} is not what this CLI understands (version mismatch?): ${checked.error.issues[0]?.message}`);
  const set = checked.data;
  const dns = createResolver(servers, timeoutMs);
  const mxHosts = set.records
    .flatMap((r) => (r.type === "MX" ? [r] : []))
    .sort((a, b) => a.preference - b.preference)
    .map((r) => canonicalName(r.exchange));

  const policy = (async (): Promise<CheckResult[]> => {
    if (!info.mtaSts) return [pass("MTA-STS policy", `the edge publishes no MTA-STS policy for ${domain} (its mtaSts setting is null)`)];
    // Senders match the policy against the MX records they find, so those count along with ours.
    const found = await dns.mx(domain);
    const hosts = [...new Set([...mxHosts, ...(found.ok ? found.values.map((m) => canonicalName(m.exchange)).filter(Boolean) : [])])];
    return await checkMtaSts(domain, info.mtaSts, hosts, dns, { port: ports.https, ca, timeoutMs, edgeHost: set.edgeHost });
  })();

  const hosts = (async () => {
    const { results, addresses } = await checkMxAddresses(mxHosts, dns);
    const probes: Promise<CheckResult>[] = [];
    for (const [index, host] of mxHosts.entries()) {
      for (const address of addresses.get(host) ?? []) {
        const services = [{ service: "smtp" as Service, mode: "starttls" as TlsMode }, ...(index === 0 ? CLIENT_SERVICES : [])];
        for (const { service, mode } of services) {
          const opts = { host, address, port: ports[service], mode, ca, timeoutMs };
          probes.push(probeTls(opts).then((probe) => tlsCheck(`TLS ${service} ${host} [${address}]`, opts, probe)));
        }
      }
    }
    const [fcrdns, tls] = await Promise.all([checkFcrdns(addresses, dns), Promise.all(probes)]);
    return [...results, ...fcrdns, ...tls];
  })();

  const results = (await Promise.all([checkRecords(set, dns), policy, hosts])).flat();
  return printReport(results, ctx);
};
