/**
 * What every doctor check produces, and how the list is printed.
 *
 * Callers may rely on: one line per check, `✓ <check>  <found>` or
 * `✗ <check>  <found> — fix: <fix>`, in the order given; green/red marks only with `color`;
 * `--json` prints the same results as an array of { check, ok, found, fix } (fix null when ok);
 * the exit code is 1 when any check failed, else 0.
 */
import { paint } from "../output.ts";

export interface CheckResult {
  /** Short and stable: what was checked ("SPF", "FCrDNS 192.0.2.1", "TLS smtp mx.example.org [192.0.2.1]"). */
  check: string;
  ok: boolean;
  /** What was found; for a failure, what is wrong. */
  found: string;
  /** What to do (with the exact record to publish when it is a record); null when ok. */
  fix: string | null;
}

export const pass = (check: string, found: string): CheckResult => ({ check, ok: true, found, fix: null });
export const fail = (check: string, found: string, fix: string): CheckResult => ({ check, ok: false, found, fix });

export function formatLine(result: CheckResult, color: boolean): string {
  const painted = result.ok ? paint(color, "green", "✓") : paint(color, "red", "✗");
  return result.ok ? `${painted} ${result.check}  ${result.found}` : `${painted} ${result.check}  ${result.found} — fix: ${result.fix}`;
}

export function printReport(results: CheckResult[], opts: { json: boolean; color: boolean; out: (line: string) => void }): number {
  if (opts.json) opts.out(JSON.stringify(results, null, 2));
  else for (const r of results) opts.out(formatLine(r, opts.color));
  return results.every((r) => r.ok) ? 0 : 1;
}
