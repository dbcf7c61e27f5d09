/**
 * The zone files of the test DNS (dns-zone.ts runs unbound on them): which apex each record
 * belongs to, and the master-file text of each zone, TXT split into 255-octet character-strings.
 *
 * Callers may rely on: `buildZones` gives every record exactly one zone (the most specific apex
 * that contains it, else an unsigned zone at its last two labels) plus an unsigned root;
 * `renderZone` writes a zone with its delegations (DS for signed children); `ptrName` names the
 * PTR record of an IPv4 or IPv6 address.
 */
import { isIP } from "node:net";
import type { DnsZoneOptions, ZoneRecord } from "./dns-zone.ts";

export type ZoneKind = "signed" | "bogus" | "unsigned";

export interface Zone {
  apex: string; // lowercase, with trailing dot; "." for the root
  kind: ZoneKind;
  records: ZoneRecord[];
  file?: string;
  dnskeyDs?: string;
}

export function fqdn(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.+$/, "");
  if (n === "") return ".";
  if (!/^[a-z0-9_*-]+(\.[a-z0-9_-]+)*$/.test(n) || n.split(".").some((l) => l.length > 63)) {
    throw new Error(`not a usable DNS name in a test zone: ${JSON.stringify(name)}`);
  }
  return `${n}.`;
}

function isUnder(name: string, apex: string): boolean {
  return apex === "." || name === apex || name.endsWith(`.${apex}`);
}

function closestApex(name: string, apexes: Iterable<string>, except?: string): string | undefined {
  let best: string | undefined;
  for (const apex of apexes) {
    if (apex === except || !isUnder(name, apex)) continue;
    if (!best || apex.length > best.length) best = apex;
  }
  return best;
}

export function buildZones(records: ZoneRecord[], opts: DnsZoneOptions): Zone[] {
  const kinds = new Map<string, ZoneKind>();
  for (const apex of opts.zones ?? []) kinds.set(fqdn(apex), "unsigned");
  for (const apex of opts.signedZones ?? []) kinds.set(fqdn(apex), "signed");
  for (const apex of opts.bogusZones ?? []) kinds.set(fqdn(apex), "bogus");
  if (kinds.has(".")) throw new Error("the root is not a test zone");
  for (const record of records) {
    const name = fqdn(record.name);
    if (name === ".") throw new Error("records at the root are not supported");
    if (!closestApex(name, kinds.keys())) kinds.set(name.split(".").slice(-3).join("."), "unsigned");
  }

  const zones = new Map<string, Zone>([[".", { apex: ".", kind: "unsigned", records: [] }]]);
  for (const [apex, kind] of kinds) zones.set(apex, { apex, kind, records: [] });
  const typesAt = new Map<string, Set<string>>();
  for (const record of records) {
    const name = fqdn(record.name);
    const apex = closestApex(name, kinds.keys())!;
    if (record.type === "CNAME" && name === apex) throw new Error(`a CNAME cannot sit at a zone apex: ${name} (opts.zones can put the zone cut higher)`);
    const types = typesAt.get(name) ?? new Set<string>();
    types.add(record.type);
    typesAt.set(name, types);
    if (types.has("CNAME") && types.size > 1) throw new Error(`a CNAME cannot share its name with other records: ${name}`);
    zones.get(apex)!.records.push(record);
  }
  return [...zones.values()];
}

function escapeCharacterString(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, "0")}`;
  }
  return `${out}"`;
}

function txtStrings(text: string | string[]): string {
  const parts: string[] = [];
  for (const piece of Array.isArray(text) ? text : [text]) {
    const bytes = Buffer.from(piece, "utf8");
    if (bytes.length === 0) parts.push('""');
    for (let i = 0; i < bytes.length; i += 255) parts.push(escapeCharacterString(bytes.subarray(i, i + 255)));
  }
  return parts.join(" ");
}

function rdata(record: ZoneRecord): string {
  switch (record.type) {
    case "A":
    case "AAAA":
      return record.address;
    case "MX":
      return `${record.preference} ${fqdn(record.exchange)}`;
    case "TXT":
      return txtStrings(record.text);
    case "TLSA":
      return `${record.usage} ${record.selector} ${record.matchingType} ${record.data.replace(/\s+/g, "") || "-"}`;
    case "CNAME":
    case "PTR":
      return fqdn(record.target);
    case "SRV":
      return `${record.priority} ${record.weight} ${record.port} ${fqdn(record.target)}`;
  }
}

export function renderZone(zone: Zone, all: Zone[], defaultTtl: number): string {
  const lines = [
    `$ORIGIN ${zone.apex}`,
    `$TTL ${defaultTtl}`,
    // NS points outside every zone, so no glue and no clash with a test's own names: unbound's
    // auth-zone lookup never needs the server's address.
    `${zone.apex} IN SOA localhost. hostmaster.invalid. 1 3600 600 86400 ${defaultTtl}`,
    `${zone.apex} IN NS localhost.`,
  ];
  for (const record of zone.records) {
    lines.push(`${fqdn(record.name)} ${record.ttl ?? defaultTtl} IN ${record.type} ${rdata(record)}`);
  }
  const apexes = all.map((z) => z.apex);
  for (const child of all) {
    if (child === zone || closestApex(child.apex, apexes, child.apex) !== zone.apex) continue;
    lines.push(`${child.apex} IN NS localhost.`);
    if (child.dnskeyDs) lines.push(child.dnskeyDs.replace(/^(\S+)\s+(?:\d+\s+)?IN\s+DS\s+/, "$1 IN DS "));
  }
  return `${lines.join("\n")}\n`;
}

/** unbound's default reverse local-zones (RFC 6303) that a test's PTR names may fall under. */
const BUILTIN_REVERSE_ZONES = [
  "127.in-addr.arpa.",
  "10.in-addr.arpa.",
  "254.169.in-addr.arpa.",
  "168.192.in-addr.arpa.",
  ...Array.from({ length: 16 }, (_, i) => `${16 + i}.172.in-addr.arpa.`),
  "2.0.192.in-addr.arpa.",
  "100.51.198.in-addr.arpa.",
  "113.0.203.in-addr.arpa.",
  `1.${"0.".repeat(31)}ip6.arpa.`,
  "8.b.d.0.1.0.0.2.ip6.arpa.",
];

export function builtinReverseZone(name: string): string | undefined {
  return BUILTIN_REVERSE_ZONES.find((zone) => isUnder(name, zone));
}

/** The reverse-DNS name of an address: 192.0.2.1 → 1.2.0.192.in-addr.arpa, IPv6 by nibbles. */
export function ptrName(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  if (isIP(address) !== 6) throw new Error(`not an IP address: ${address}`);
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const h = groups(head);
  const t = groups(tail);
  const all = address.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return `${all.map((g) => g.padStart(4, "0")).join("").split("").reverse().join(".")}.ip6.arpa`;
}
