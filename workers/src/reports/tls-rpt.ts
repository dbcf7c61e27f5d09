/**
 * TLS-RPT aggregate reports (RFC 8460 §4): the JSON schema, checked field by field, and its
 * normalised form, which store/reports.ts stores as it is.
 *
 * Callers may rely on: {@link parseTlsReport} takes the inflated octets and returns a report
 * whose times are ms since the epoch (start <= end), whose policy domains are lower-case without
 * a trailing dot, whose `mx-host` is always a list (the RFC's example sends one string), with at
 * most REPORT_LIMITS.entries policies and {@link MAX_FAILURE_DETAILS} failure details per policy,
 * every string bounded, unknown fields dropped; anything else throws `bad_request` with a reason
 * that names the offending field (at most a few of them).
 */
import { z } from "zod";
import { REPORT_LIMITS } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { clip } from "./inflate.ts";

/** Per policy: each detail is one (result type, sending IP, receiving MX) combination, so a few hundred is already a lot. */
export const MAX_FAILURE_DETAILS = 1000;

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Short = z.string().max(255);
const DateTime = z
  .string()
  .max(64)
  .refine((s) => Number.isFinite(Date.parse(s)), "not an RFC 3339 date-time");
const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => s.replace(/\.$/, ""))
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$/, "not a domain name"));

const FailureDetail = z.object({
  "result-type": Short.min(1),
  "sending-mta-ip": Short.optional(),
  "receiving-mx-hostname": Short.optional(),
  "receiving-mx-helo": Short.optional(),
  "receiving-ip": Short.optional(),
  "failed-session-count": Count,
  "additional-information": z.string().max(2048).optional(),
  "failure-reason-code": Short.optional(),
});

const Policy = z.object({
  policy: z.object({
    "policy-type": z.enum(["sts", "tlsa", "no-policy-found"]),
    "policy-string": z.array(z.string().max(1024)).max(100).optional(),
    "policy-domain": DomainName,
    "mx-host": z.union([Short, z.array(Short).max(100)]).optional(),
  }),
  summary: z.object({
    "total-successful-session-count": Count,
    "total-failure-session-count": Count,
  }),
  "failure-details": z.array(FailureDetail).max(MAX_FAILURE_DETAILS).optional(),
});

export const TlsReportJson = z
  .object({
    "organization-name": Short.trim().min(1),
    "date-range": z.object({ "start-datetime": DateTime, "end-datetime": DateTime }),
    "contact-info": Short.optional(),
    "report-id": Short.trim().min(1),
    policies: z.array(Policy).min(1).max(REPORT_LIMITS.entries),
  })
  .refine((r) => Date.parse(r["date-range"]["start-datetime"]) <= Date.parse(r["date-range"]["end-datetime"]), {
    message: "start-datetime is after end-datetime",
    path: ["date-range"],
  });

export interface TlsReportPolicy {
  policyType: string;
  policyDomain: string;
  policyStrings: string[];
  mxHosts: string[];
  successes: number;
  failures: number;
  failureDetails: Record<string, unknown>[];
}

export interface TlsReport {
  organization: string;
  reportId: string;
  contact: string | null;
  startAt: number;
  endAt: number;
  policies: TlsReportPolicy[];
}

/** The inflated report (UTF-8 JSON) → its normalised form; throws bad_request with the reason. */
export function parseTlsReport(bytes: Uint8Array): TlsReport {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw apiError("bad_request", "The TLS report is not JSON (RFC 8460 section 4)");
  }
  const parsed = TlsReportJson.safeParse(raw);
  if (!parsed.success) throw apiError("bad_request", `The TLS report does not match RFC 8460: ${issues(parsed.error)}`);
  const r = parsed.data;
  return {
    organization: r["organization-name"],
    reportId: r["report-id"],
    contact: r["contact-info"] ?? null,
    startAt: Date.parse(r["date-range"]["start-datetime"]),
    endAt: Date.parse(r["date-range"]["end-datetime"]),
    policies: r.policies.map((p) => {
      const mx = p.policy["mx-host"];
      return {
        policyType: p.policy["policy-type"],
        policyDomain: p.policy["policy-domain"],
        policyStrings: p.policy["policy-string"] ?? [],
        mxHosts: mx === undefined ? [] : typeof mx === "string" ? [mx] : mx,
        successes: p.summary["total-successful-session-count"],
        failures: p.summary["total-failure-session-count"],
        failureDetails: p["failure-details"] ?? [],
      };
    }),
  };
}

/** A zod error as one short line: the first few `path: message` pairs. */
export function issues(error: z.ZodError): string {
  const list = error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  return clip(list.join("; "), 300);
}
