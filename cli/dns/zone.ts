/**
 * Renders the edge's DnsRecordSet (common/contract/dns.ts) as a zone-file snippet an operator can
 * paste into a BIND-style zone or read off record by record into a DNS provider's form.
 *
 * Callers may rely on: names are absolute with the final dot; every record line is
 * `<name>. <ttl> IN <type> <rdata>` on one line, preceded by a `; <purpose>` comment (with
 * "(optional)" when the record is not required); TXT values are written as quoted
 * character-strings of at most 255 octets each (RFC 1035 §3.3.14, §5.1) with `"` and `\` escaped
 * and any octet outside printable ASCII as `\DDD`, so the zone holds exactly the edge's bytes.
 * `recordLine` gives the single line (no comment) that doctor quotes in its fixes.
 */
import type { DnsRecord, DnsRecordSet } from "../../common/contract.ts";

const MAX_STRING_OCTETS = 255;

export function absolute(name: string): string {
  return name.endsWith(".") ? name : `${name}.`;
}

/**
 * The character-strings of a TXT value: the edge's own split when it is a valid one (each piece
 * ≤255 octets and together the text), else a fresh split by octets, so a wrong `strings` field can
 * never produce an unloadable zone.
 */
export function txtStrings(record: { text: string; strings?: string[] }): Buffer[] {
  const given = record.strings?.map((s) => Buffer.from(s, "utf8"));
  if (given && given.length > 0 && given.every((b) => b.length <= MAX_STRING_OCTETS) && record.strings!.join("") === record.text) return given;
  const bytes = Buffer.from(record.text, "utf8");
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += MAX_STRING_OCTETS) out.push(bytes.subarray(i, i + MAX_STRING_OCTETS));
  return out;
}

/** One quoted character-string in master-file syntax (RFC 1035 §5.1). */
export function quoteString(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, "0")}`;
  }
  return `${out}"`;
}

export function rdata(record: DnsRecord): string {
  switch (record.type) {
    case "MX":
      return `${record.preference} ${absolute(record.exchange)}`;
    case "TXT":
      return txtStrings(record).map(quoteString).join(" ");
    case "CNAME":
      return absolute(record.target);
    case "SRV":
      return `${record.priority} ${record.weight} ${record.port} ${absolute(record.target)}`;
    case "TLSA":
      return `${record.usage} ${record.selector} ${record.matchingType} ${record.data.toLowerCase()}`;
  }
}

export function recordLine(record: DnsRecord): string {
  return `${absolute(record.name)} ${record.ttl} IN ${record.type} ${rdata(record)}`;
}

export function renderZone(set: DnsRecordSet, extra: DnsRecord[] = []): string {
  const lines = [
    `; DNS records for ${set.domain}, as the edgemail edge computes them`,
    `; web hosts point at ${set.edgeHost}; DMARC and TLS-RPT reports go to ${set.reportAddress}`,
  ];
  for (const record of [...set.records, ...extra]) {
    lines.push("", `; ${record.purpose}${record.required ? "" : " (optional)"}`, recordLine(record));
  }
  return `${lines.join("\n")}\n`;
}
