/**
 * `edgemail dns <domain> [--tlsa cert.pem]… [--tlsa-from host:port]… [--timeout 5s]`: the records
 * the domain must publish, as the edge computes them (GET /admin/v1/domains/:domain/dns), as a
 * zone-file snippet (cli/dns/zone.ts) or, with --json, the DnsRecordSet itself.
 *
 * Callers may rely on: --tlsa / --tlsa-from add DANE-EE TLSA records (3 1 1) at
 * `_25._tcp.<mx host>` for every MX host of the set, one per distinct key (give two during a key
 * rollover), appended to `records` in the JSON form; exit 0 on success, CliError codes otherwise
 * (2 a bad argument or an unreadable certificate file, 1 a --tlsa-from server that does not
 * answer with TLS).
 */
import { readFile } from "node:fs/promises";
import { DnsRecordSet } from "../../common/contract.ts";
import { CliError, usage } from "../admin-client.ts";
import { parseCommand, parseDuration } from "../args.ts";
import type { Command } from "../command.ts";
import { certificateFrom, tlsaData, tlsaRecords } from "../dns/tlsa.ts";
import { renderZone } from "../dns/zone.ts";

export const dnsCommand: Command = async (ctx, args) => {
  const { values, positionals } = parseCommand(
    args,
    {
      tlsa: { type: "string", multiple: true, default: [] },
      "tlsa-from": { type: "string", multiple: true, default: [] },
      timeout: { type: "string", default: "5s" },
    },
    { min: 1, max: 1, names: "a domain" },
  );
  const domain = positionals[0]!.toLowerCase().replace(/\.$/, "");
  const timeoutSeconds = parseDuration(values.timeout, "--timeout");
  if (timeoutSeconds < 1 || timeoutSeconds > 600) throw usage(`--timeout: "${values.timeout}" is outside 1s to 10m`);
  const timeoutMs = timeoutSeconds * 1000;

  // Certificates first: a typo in a path should not cost an edge round trip.
  const keys: string[] = [];
  for (const file of values.tlsa) {
    let pem: string;
    try {
      pem = await readFile(file, "utf8");
      keys.push(tlsaData(pem));
    } catch (err) {
      throw usage(`--tlsa ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not a PEM certificate (${(err as Error).message})`}`);
    }
  }
  for (const target of values["tlsa-from"]) {
    try {
      keys.push(tlsaData(await certificateFrom(target, timeoutMs)));
    } catch (err) {
      const message = `--tlsa-from ${(err as Error).message}`;
      throw /is not host:port/.test(message) ? usage(message) : new CliError(1, message);
    }
  }

  const client = await ctx.client();
  const raw = await client.call<unknown>("GET", `/domains/${encodeURIComponent(domain)}/dns`);
  const checked = DnsRecordSet.safeParse(raw);
  if (!checked.success) throw new CliError(1, `the edge's DNS record set for ${domain} is not what this CLI understands (version mismatch?): ${checked.error.issues[0]?.message}`);
  const set = checked.data;
  const mxHosts = set.records.flatMap((r) => (r.type === "MX" ? [r.exchange] : []));
  const ttl = set.records.find((r) => r.type === "MX")?.ttl ?? 3600;
  const tlsa = tlsaRecords(mxHosts, keys, ttl);

  if (ctx.json) ctx.out(JSON.stringify({ ...set, records: [...set.records, ...tlsa] }, null, 2));
  else ctx.out(renderZone(set, tlsa).trimEnd());
  return 0;
};
