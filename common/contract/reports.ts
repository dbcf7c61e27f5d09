/** Aggregate reports about our domains: TLS-RPT (RFC 8460) and DMARC (RFC 7489). See ../contract.ts. */
import { z } from "zod";

// ---- reports --------------------------------------------------------------------------
//
//   POST /tls-reports                      (public, no token; the `https:` rua of `_smtp._tls`,
//                                           published as https://mta-sts.<domain>/tls-reports)
//        body: an RFC 8460 §4 JSON report, `Content-Type: application/tlsrpt+gzip` (gzip) or
//        `application/tlsrpt+json`; 201 stored, 200 already stored (same organization and
//        report-id), 400 bad_request with the reason (not gzip, not JSON, not the schema,
//        no policy for a domain of ours), 413 too_large. Nothing is stored unless all of it is.
//   mail to <reportLocalPart>@<domain>      a DMARC aggregate report (XML, as .xml, .xml.gz,
//                                           .gz or .zip attachment) or a TLS-RPT report
//                                           (application/tlsrpt+gzip / +json): parsed when the
//                                           delivery is stored, in the same batch; a message
//                                           there that holds no readable report is refused as a
//                                           whole with 400 bad_request and the reason (SMTP 554 5.6.0);
//                                           one past REPORT_LIMITS (a bomb included) with 413
//                                           too_large (SMTP 552 5.3.4). Only mail through the MX:
//                                           submissions treat the address as an ordinary one.
//   GET /admin/v1/reports/tls?domain=&since=&until=    → TlsReportSummary
//   GET /admin/v1/reports/dmarc?domain=&since=&until=  → DmarcReportSummary
//
// since/until are ms since the epoch on the report's date range (start-datetime / begin);
// default: the last 30 days. Limits: REPORT_LIMITS.

export const REPORT_LIMITS = {
  /** A compressed report (HTTPS body or attachment). */
  compressedBytes: 5 * 1024 * 1024,
  /** Its inflated form: a zip or gzip bomb stops here, whatever its ratio. */
  inflatedBytes: 20 * 1024 * 1024,
  /** A report mail as a whole. */
  messageBytes: 10 * 1024 * 1024,
  /** Policies in one TLS-RPT report, records in one DMARC report. */
  entries: 10_000,
} as const;

export const TlsReportSummaryRow = z.object({
  organization: z.string(),
  policyType: z.string(),
  policyDomain: z.string(),
  /** Reports from this organization for this policy in the range. */
  reports: z.number().int(),
  successes: z.number().int(),
  failures: z.number().int(),
  /** Failed sessions by RFC 8460 result-type. */
  failureTypes: z.record(z.string(), z.number().int()),
});
export const TlsReportSummary = z.object({
  domain: z.string().nullable(),
  since: z.number().int(),
  until: z.number().int(),
  reports: z.number().int(),
  rows: z.array(TlsReportSummaryRow),
});
export type TlsReportSummary = z.infer<typeof TlsReportSummary>;

export const DmarcReportSummaryRow = z.object({
  sourceIp: z.string(),
  organization: z.string(),
  /** Messages (sum of `count`). */
  messages: z.number().int(),
  /** Messages whose DMARC-evaluated SPF / DKIM result was pass (i.e. aligned and passing). */
  spfAligned: z.number().int(),
  dkimAligned: z.number().int(),
  dispositions: z.object({ none: z.number().int(), quarantine: z.number().int(), reject: z.number().int() }),
});
export const DmarcReportSummary = z.object({
  domain: z.string().nullable(),
  since: z.number().int(),
  until: z.number().int(),
  reports: z.number().int(),
  rows: z.array(DmarcReportSummaryRow),
});
export type DmarcReportSummary = z.infer<typeof DmarcReportSummary>;
