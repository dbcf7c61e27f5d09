/**
 * The DNS records a domain must publish (contract/dns.ts is the spec), computed from what the edge
 * stores: the domain's settings, its DKIM keys and its MTA-STS policy. Nothing here is stored;
 * the set changes exactly when those do, so `edgemail dns` can be re-run after any change.
 *
 * Callers may rely on: {@link dnsRecordSet} is a pure function of {@link DnsInputs} (tests and the
 * CLI can call it with plain values); {@link domainDnsRecords} reads those inputs for one domain
 * (404 not_found for a domain we do not serve). Records come in a fixed order: MX, SPF, DKIM,
 * DMARC, MTA-STS, TLS-RPT, SRV, web hosts. TXT values are split into 255-octet strings without
 * cutting a UTF-8 sequence.
 *
 * Choices the contract left open, and why:
 * - SPF names the relays' addresses when they are known (`ip4:`/`ip6:`) and then leaves out `mx`:
 *   the relays are the only hosts that send our mail, and `mx` would cost a lookup of the ten
 *   SPF allows (RFC 7208 §4.6.4) to authorize the same hosts again. Without addresses, `mx`.
 * - DMARC leaves `adkim`/`aspf` at their relaxed defaults (RFC 7489 §6.3): we sign with
 *   d=<domain> and bounce with the domain's own addresses, so strict alignment gains nothing and
 *   would fail mail sent from a subdomain through us. `p=quarantine` (not reject) because a new
 *   domain's forwarders and lists are not known yet; the reports at `rua` show when to tighten.
 * - A mirror domain (settings.aliasOf) publishes its own MX, SPF, DMARC and also its own DKIM
 *   keys: the relay signs with the keys of the From domain, and mail can leave with a mirror's
 *   From (DSNs, replies from a mirror address), so the mirror's keys must verify.
 * - `_mta-sts` has a TTL of 300 s: senders notice a new policy id within minutes. The `mta-sts.`
 *   host exists only while a policy is published; without a policy the TLS-RPT HTTPS endpoint is
 *   given on `edgeHost` instead, which serves the same route (it finds the domain in the report).
 * - SRV (RFC 6186, RFC 8314 §5.1) only for implicit TLS, `_submissions._tcp` (465) and
 *   `_imaps._tcp` (993): RFC 8314 §4 prefers them to STARTTLS. `_submission._tcp` and
 *   `_imap._tcp` are left out rather than published: the relay may or may not listen on 587/143
 *   (relay config), which the edge cannot know; a "." record would deny a service that may run,
 *   a real one could name a port that is off. Without them a client falls back to its own probing.
 */
import { RETIRED_KEY_PUBLISH_DAYS, type DkimPublicKey, type DnsRecord, type DnsRecordSet } from "../../../common/contract.ts";
import type { Db } from "./db.ts";
import { dkimPublicKeys } from "./dkim.ts";
import { domainWithSettings } from "./domains.ts";

export const DNS_TTL = 3600;
/** Short, so a policy change reaches senders soon (they re-fetch the policy when the id changes). */
export const MTA_STS_ID_TTL = 300;
/** The path of the public TLS-RPT endpoint (contract/reports.ts). */
export const TLS_RPT_PATH = "/tls-reports";
const DAY_MS = 86_400_000;
/** RFC 1035 §3.3.14: one character-string holds at most 255 octets. */
const TXT_STRING_OCTETS = 255;

export interface DnsInputs {
  domain: string;
  /** MX preference order; the first is also the host mail clients connect to. */
  mxHosts: readonly string[];
  relayIps: readonly string[];
  reportLocalPart: string;
  /** null: no MTA-STS policy is published. */
  mtaStsPolicyId: string | null;
  dkimKeys: readonly Pick<DkimPublicKey, "selector" | "algorithm" | "status" | "retiredAt" | "dnsName" | "dnsValue">[];
  edgeHost: string;
  now: number;
}

export function dnsRecordSet(input: DnsInputs): DnsRecordSet {
  const d = input.domain;
  const primary = input.mxHosts[0];
  if (primary === undefined) throw new Error("dnsRecordSet: a domain has at least one MX host");
  const reportAddress = `${input.reportLocalPart}@${d}`;
  const webHost = input.mtaStsPolicyId === null ? input.edgeHost : `mta-sts.${d}`;
  const tlsRptUrl = `https://${webHost}${TLS_RPT_PATH}`;
  const records: DnsRecord[] = [];

  input.mxHosts.forEach((exchange, i) => {
    records.push({ type: "MX", name: d, ttl: DNS_TTL, purpose: i === 0 ? "MX" : `MX (backup ${i})`, required: true, preference: 10 * (i + 1), exchange });
  });
  const senders = input.relayIps.length > 0 ? input.relayIps.map((ip) => (ip.includes(":") ? `ip6:${ip}` : `ip4:${ip}`)) : ["mx"];
  records.push(txt(d, `v=spf1 ${senders.join(" ")} -all`, "SPF"));
  for (const key of input.dkimKeys) {
    if (!published(key, input.now)) continue;
    const kind = key.algorithm === "rsa-sha256" ? "rsa" : "ed25519";
    const status = key.status === "active" ? "" : ` (${key.status})`;
    records.push(txt(key.dnsName, key.dnsValue, `DKIM ${kind} ${key.selector}${status}`));
  }
  records.push(txt(`_dmarc.${d}`, `v=DMARC1; p=quarantine; rua=mailto:${reportAddress}`, "DMARC"));
  if (input.mtaStsPolicyId !== null) {
    records.push({ ...txt(`_mta-sts.${d}`, `v=STSv1; id=${input.mtaStsPolicyId}`, "MTA-STS policy id"), ttl: MTA_STS_ID_TTL });
    records.push({ type: "CNAME", name: `mta-sts.${d}`, ttl: DNS_TTL, purpose: "MTA-STS policy host", required: true, target: input.edgeHost });
  }
  records.push(txt(`_smtp._tls.${d}`, `v=TLSRPTv1; rua=mailto:${reportAddress},${tlsRptUrl}`, "TLS-RPT"));
  records.push(srv(`_submissions._tcp.${d}`, 465, primary, "mail client submission (implicit TLS)"));
  records.push(srv(`_imaps._tcp.${d}`, 993, primary, "mail client IMAP (implicit TLS)"));
  for (const host of ["autoconfig", "autodiscover"]) {
    records.push({ type: "CNAME", name: `${host}.${d}`, ttl: DNS_TTL, purpose: `mail client ${host}`, required: false, target: input.edgeHost });
  }
  return { domain: d, edgeHost: input.edgeHost, reportAddress, tlsRptUrl, records };
}

/** A key is in DNS before it signs, while it signs, and RETIRED_KEY_PUBLISH_DAYS after it stopped. */
function published(key: DnsInputs["dkimKeys"][number], now: number): boolean {
  if (key.status !== "retired") return true;
  return key.retiredAt === null || now < key.retiredAt + RETIRED_KEY_PUBLISH_DAYS * DAY_MS;
}

function txt(name: string, text: string, purpose: string): Extract<DnsRecord, { type: "TXT" }> {
  return { type: "TXT", name, ttl: DNS_TTL, purpose, required: true, text, strings: splitTxt(text) };
}

function srv(name: string, port: number, target: string, purpose: string): Extract<DnsRecord, { type: "SRV" }> {
  return { type: "SRV", name, ttl: DNS_TTL, purpose, required: false, priority: 0, weight: 1, port, target };
}

/** Splits into character-strings of at most 255 octets, never inside a UTF-8 sequence. */
export function splitTxt(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + TXT_STRING_OCTETS, bytes.length);
    // Continuation bytes are 10xxxxxx: back up to the start of the character they belong to.
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    out.push(decoder.decode(bytes.subarray(start, end)));
    start = end;
  }
  return out.length > 0 ? out : [""];
}

/**
 * The record set of one stored domain. `edgeHost` is the Worker's public host name: EDGE_HOSTNAME,
 * else the host the admin request came to (the caller decides; see routes/admin/domains.ts).
 */
export async function domainDnsRecords(db: Db, name: string, edgeHost: string, now: number): Promise<DnsRecordSet> {
  const domain = await domainWithSettings(db, name);
  const { keys } = await dkimPublicKeys(db, domain.name, now);
  return dnsRecordSet({
    domain: domain.name,
    mxHosts: domain.settings.mxHosts,
    relayIps: domain.settings.relayIps,
    reportLocalPart: domain.settings.reportLocalPart,
    mtaStsPolicyId: domain.mtaSts?.policyId ?? null,
    dkimKeys: keys,
    edgeHost,
    now,
  });
}
