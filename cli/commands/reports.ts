/**
 * `edgemail reports …`: what other mail systems told us about our domains — TLS-RPT (RFC 8460:
 * could they reach our MX over TLS?) and DMARC aggregates (RFC 7489: who sends as us, aligned?).
 *
 * Callers may rely on: --since/--until take a duration back from now (7d) or a UTC date
 * (2025-01-31); left out, the edge's default range applies (the last 30 days). The human form is
 * a summary line and a table (its header alone when nothing arrived); --json prints the edge's
 * summary as it is.
 */
import type { DmarcReportSummary, TlsReportSummary } from "../../common/contract.ts";
import { parseCommand, parseSince } from "../args.ts";
import type { CommandContext, CommandGroup } from "../command.ts";
import { emit, formatTime, paint, table } from "../output.ts";

const OPTIONS = { domain: { type: "string" }, since: { type: "string" }, until: { type: "string" } } as const;

function query(values: { domain?: string; since?: string; until?: string }): string {
  const now = Date.now();
  const q = new URLSearchParams();
  if (values.domain !== undefined) q.set("domain", values.domain);
  if (values.since !== undefined) q.set("since", String(parseSince(values.since, "--since", now)));
  if (values.until !== undefined) q.set("until", String(parseSince(values.until, "--until", now)));
  const s = q.toString();
  return s ? `?${s}` : "";
}

function summaryLine(ctx: CommandContext, kind: string, s: { domain: string | null; since: number; until: number; reports: number }): string {
  return paint(ctx.color, "dim", `${kind} reports for ${s.domain ?? "all domains"}, ${formatTime(s.since)} to ${formatTime(s.until)}: ${s.reports}`);
}

const count = (color: boolean, n: number, bad: boolean) => (bad && n > 0 ? paint(color, "red", String(n)) : String(n));

export const reportsGroup: CommandGroup = {
  summary: "TLS-RPT and DMARC aggregate reports about our domains",
  commands: {
    tls: {
      usage: "usage: edgemail reports tls [--domain d] [--since 7d|DATE] [--until DATE]\n  per reporting organization and policy: sessions that succeeded and failed, by failure type",
      async run(ctx, args) {
        const { values } = parseCommand(args, OPTIONS, { min: 0, max: 0, names: "" });
        const s = await (await ctx.client()).call<TlsReportSummary>("GET", `/reports/tls${query(values)}`);
        emit(ctx, s, () =>
          [
            summaryLine(ctx, "TLS", s),
            table(
              ["ORGANIZATION", "POLICY", "DOMAIN", "REPORTS", "OK", "FAILED", "FAILURES BY TYPE"],
              s.rows.map((r) => [
                r.organization,
                r.policyType,
                r.policyDomain,
                String(r.reports),
                String(r.successes),
                count(ctx.color, r.failures, true),
                Object.entries(r.failureTypes)
                  .map(([type, n]) => `${type}=${n}`)
                  .join(" ") || "-",
              ]),
              { right: [3, 4, 5], color: ctx.color },
            ),
          ].join("\n"),
        );
        return 0;
      },
    },
    dmarc: {
      usage: [
        "usage: edgemail reports dmarc [--domain d] [--since 7d|DATE] [--until DATE]",
        "  per source address and reporter: messages, how many passed SPF / DKIM aligned, and what receivers did",
      ].join("\n"),
      async run(ctx, args) {
        const { values } = parseCommand(args, OPTIONS, { min: 0, max: 0, names: "" });
        const s = await (await ctx.client()).call<DmarcReportSummary>("GET", `/reports/dmarc${query(values)}`);
        emit(ctx, s, () =>
          [
            summaryLine(ctx, "DMARC", s),
            table(
              ["SOURCE IP", "ORGANIZATION", "MESSAGES", "SPF ALIGNED", "DKIM ALIGNED", "NONE", "QUARANTINE", "REJECT"],
              s.rows.map((r) => [
                r.sourceIp,
                r.organization,
                String(r.messages),
                count(ctx.color, r.spfAligned, false),
                String(r.dkimAligned),
                String(r.dispositions.none),
                count(ctx.color, r.dispositions.quarantine, true),
                count(ctx.color, r.dispositions.reject, true),
              ]),
              { right: [2, 3, 4, 5, 6, 7], color: ctx.color },
            ),
          ].join("\n"),
        );
        return 0;
      },
    },
  },
};
