/** The DNS records a domain needs, as the edge computes them from its settings. Part of the admin API: see ../contract.ts. */
import { z } from "zod";

// ---- DNS records (admin) --------------------------------------------------------------
//
//   GET /admin/v1/domains/:domain/dns     → DnsRecordSet
//
// Everything the domain must publish: MX (mxHosts in order, preference 10, 20, …), SPF
// (`v=spf1 mx -all`, or the relayIps), every published DKIM key, DMARC (`p=quarantine` with
// `rua=mailto:<report address>`), `_mta-sts` TXT with the current policy id and the `mta-sts`
// host (only while a policy is published), `_smtp._tls` TLS-RPT (`rua` = the report address and
// the edge's HTTPS endpoint), RFC 6186 SRV records for `_submissions._tcp` (465) and
// `_imaps._tcp` (993) pointing at mxHosts[0], and the `autoconfig`/`autodiscover` hosts.
// The web hosts (`mta-sts.`, `autoconfig.`, `autodiscover.`) are CNAMEs to `edgeHost`: the
// Worker's public host name (EDGE_HOSTNAME, else the host the admin request came to); on
// Cloudflare a Workers custom domain publishes them instead. TLSA is not here: the edge never sees
// the relay's certificate (the CLI computes it from the certificate with `dns --tlsa`).
// Names are absolute without the final dot; `ttl` is a suggestion.

const Base = {
  name: z.string(),
  ttl: z.number().int(),
  /** What it is for, in a few words ("MX", "SPF", "DKIM rsa s20261124r", "MTA-STS policy id"…). */
  purpose: z.string(),
  /** false: mail works without it, but it is recommended (SRV, autoconfig, TLSA). */
  required: z.boolean(),
};

export const DnsRecord = z.discriminatedUnion("type", [
  z.object({ ...Base, type: z.literal("MX"), preference: z.number().int(), exchange: z.string() }),
  z.object({
    ...Base,
    type: z.literal("TXT"),
    /** The whole value as one string (what a resolver's answer joins to). */
    text: z.string(),
    /** The same split into character-strings of at most 255 octets (RFC 1035 §3.3.14). */
    strings: z.array(z.string()),
  }),
  z.object({ ...Base, type: z.literal("CNAME"), target: z.string() }),
  z.object({ ...Base, type: z.literal("SRV"), priority: z.number().int(), weight: z.number().int(), port: z.number().int(), target: z.string() }),
  z.object({
    ...Base,
    type: z.literal("TLSA"),
    usage: z.number().int(),
    selector: z.number().int(),
    matchingType: z.number().int(),
    /** Lower-case hex. */
    data: z.string(),
  }),
]);
export type DnsRecord = z.infer<typeof DnsRecord>;

export const DnsRecordSet = z.object({
  domain: z.string(),
  /** The Worker's public host name the web hosts point at. */
  edgeHost: z.string(),
  /** Where DMARC and TLS-RPT reports go: `<reportLocalPart>@<domain>`. */
  reportAddress: z.string(),
  /** The TLS-RPT HTTPS endpoint listed in `_smtp._tls` (on the `mta-sts.` host). */
  tlsRptUrl: z.string(),
  records: z.array(DnsRecord),
});
export type DnsRecordSet = z.infer<typeof DnsRecordSet>;
