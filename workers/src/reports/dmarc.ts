/**
 * DMARC aggregate reports (RFC 7489 §7.2 and appendix C): the XML, parsed safely and checked
 * against the appendix C schema, and its normalised form, which store/reports.ts stores as it is.
 *
 * XML from strangers is read through xml/untrusted-xml.ts (no DTDs, well-formed or a reason,
 * nesting bounded at 16 here). Element namespaces are dropped, so
 * the DMARCbis namespace (`urn:ietf:params:xml:ns:dmarc-2.0`) reads like the plain schema.
 *
 * Callers may rely on: {@link parseDmarcReport} takes the inflated octets and returns a report
 * whose times are ms since the epoch (begin <= end), whose domain is lower-case, with 1 to
 * REPORT_LIMITS.entries records whose disposition is none/quarantine/reject and whose evaluated
 * dkim/spf are pass/fail (lower-cased), whose source IP is an IPv4 or IPv6 address, strings
 * bounded; anything else throws `bad_request` with a reason naming what is wrong.
 */
import { z } from "zod";
import { IpAddress, REPORT_LIMITS } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { readUntrustedXml } from "../xml/untrusted-xml.ts";
import { issues } from "./tls-rpt.ts";

/** Elements that may repeat (appendix C's maxOccurs="unbounded"): always lists, even with one. */
const REPEATED = new Set([
  "feedback.record",
  "feedback.record.auth_results.dkim",
  "feedback.record.auth_results.spf",
  "feedback.record.row.policy_evaluated.reason",
  "feedback.report_metadata.error",
]);

const PARSER_OPTIONS = {
  ignoreAttributes: true,
  removeNSPrefix: true,
  // Values stay strings: the schema below decides what is a number.
  parseTagValue: false,
  trimValues: true,
  maxNestedTags: 16,
  isArray: (_name: string, path: unknown) => typeof path === "string" && REPEATED.has(path),
};

const Text = (max = 255) => z.string().trim().max(max);
const PassFail = z.string().trim().toLowerCase().pipe(z.enum(["pass", "fail"]));
const Integer = z
  .string()
  .trim()
  .regex(/^[0-9]{1,15}$/, "not a non-negative integer")
  .transform(Number);
const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => s.replace(/\.$/, ""))
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$/, "not a domain name"));
/** An element that may be present but empty (`<sp/>` parses as ""). */
const Optional = (schema: z.ZodType<string>) => schema.optional();

const AuthDkim = z.object({ domain: Text(), selector: Optional(Text()), result: Text(32), human_result: Optional(Text(1024)) });
const AuthSpf = z.object({ domain: Text(), scope: Optional(Text(32)), result: Text(32) });

const FeedbackRecord = z.object({
  row: z.object({
    source_ip: z.string().trim().pipe(IpAddress),
    count: Integer,
    policy_evaluated: z.object({
      disposition: z.string().trim().toLowerCase().pipe(z.enum(["none", "quarantine", "reject"])),
      dkim: PassFail,
      spf: PassFail,
    }),
  }),
  identifiers: z.object({
    header_from: Text(),
    envelope_from: Optional(Text()),
    envelope_to: Optional(Text()),
  }),
  auth_results: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.object({ dkim: z.array(AuthDkim).max(100).optional(), spf: z.array(AuthSpf).max(100).optional() }).optional(),
  ),
});

export const DmarcFeedback = z.object({
  feedback: z.object({
    report_metadata: z.object({
      org_name: Text().min(1),
      email: Optional(Text()),
      report_id: Text().min(1),
      date_range: z
        .object({ begin: Integer, end: Integer })
        .refine((d) => d.begin <= d.end, "begin is after end"),
    }),
    policy_published: z.object({
      domain: DomainName,
      adkim: Optional(Text(8)),
      aspf: Optional(Text(8)),
      p: Optional(Text(16)),
      sp: Optional(Text(16)),
      np: Optional(Text(16)),
      pct: Optional(Text(8)),
      fo: Optional(Text(16)),
    }),
    record: z.array(FeedbackRecord).min(1).max(REPORT_LIMITS.entries),
  }),
});

export interface DmarcRecord {
  sourceIp: string;
  count: number;
  disposition: "none" | "quarantine" | "reject";
  dkim: "pass" | "fail";
  spf: "pass" | "fail";
  headerFrom: string;
  authResults: { dkim: Record<string, unknown>[]; spf: Record<string, unknown>[] };
}

export interface DmarcReport {
  organization: string;
  reportId: string;
  email: string | null;
  beginAt: number;
  endAt: number;
  /** policy_published.domain: the domain the report is about. */
  domain: string;
  policy: Record<string, string>;
  records: DmarcRecord[];
}

/** The inflated report (XML) → its normalised form; throws bad_request with the reason. */
export function parseDmarcReport(bytes: Uint8Array): DmarcReport {
  const xml = new TextDecoder("utf-8").decode(bytes);
  const tree = readUntrustedXml(xml, "The DMARC report", PARSER_OPTIONS);
  const parsed = DmarcFeedback.safeParse(tree);
  if (!parsed.success) throw apiError("bad_request", `The DMARC report does not match RFC 7489 appendix C: ${issues(parsed.error)}`);
  const f = parsed.data.feedback;
  const meta = f.report_metadata;
  const { domain, ...policy } = f.policy_published;
  return {
    organization: meta.org_name,
    reportId: meta.report_id,
    email: meta.email || null,
    beginAt: meta.date_range.begin * 1000,
    endAt: meta.date_range.end * 1000,
    domain,
    policy: Object.fromEntries(Object.entries(policy).filter((e): e is [string, string] => e[1] !== undefined)),
    records: f.record.map((r) => ({
      sourceIp: r.row.source_ip.toLowerCase(),
      count: r.row.count,
      disposition: r.row.policy_evaluated.disposition,
      dkim: r.row.policy_evaluated.dkim,
      spf: r.row.policy_evaluated.spf,
      headerFrom: r.identifiers.header_from.toLowerCase(),
      authResults: { dkim: r.auth_results?.dkim ?? [], spf: r.auth_results?.spf ?? [] },
    })),
  };
}
