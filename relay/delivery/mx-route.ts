/**
 * Where mail for a domain goes (RFC 5321 §5.1, RFC 7505): MX hosts by preference, shuffled
 * among equals; no MX records → the domain itself (implicit MX) if it has an address; a lone
 * "." MX (null MX) → the domain accepts no mail.
 *
 * Callers may rely on: DNS failures other than "no such name/no data" throw DnsTemporaryError
 * (the job is deferred), everything else is an answer.
 */
import type { DeliveryDns, MxRecord } from "./dns.ts";

export type MxRoute =
  | { kind: "hosts"; hosts: string[]; implicit: boolean }
  /** RFC 7505 §3: a single MX "." with preference 0. */
  | { kind: "null-mx" }
  /** Neither MX nor address records: the domain cannot receive mail. */
  | { kind: "no-host" };

export async function resolveMxRoute(dns: DeliveryDns, domain: string, random: () => number = Math.random): Promise<MxRoute> {
  const records = await dns.mx(domain);
  if (records === null) {
    const addresses = await dns.addresses(domain);
    return addresses.length > 0 ? { kind: "hosts", hosts: [domain], implicit: true } : { kind: "no-host" };
  }
  if (records.some((r) => r.exchange === "" || r.exchange === ".")) {
    // A null MX mixed with real ones is a misconfiguration; the real ones are the only usable answer.
    const real = records.filter((r) => r.exchange !== "" && r.exchange !== ".");
    if (real.length === 0) return { kind: "null-mx" };
    return { kind: "hosts", hosts: order(real, random), implicit: false };
  }
  return { kind: "hosts", hosts: order(records, random), implicit: false };
}

function order(records: MxRecord[], random: () => number): string[] {
  const keyed = records.map((r) => ({ r, tie: random() }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie);
  return [...new Set(keyed.map((k) => k.r.exchange.toLowerCase().replace(/\.$/, "")))];
}
