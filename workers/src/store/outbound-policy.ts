/**
 * The outbound retry schedule, in one place: how long a deferred recipient waits before the next
 * try, and when the queue gives up and bounces it. Defaults follow common MTA practice (Postfix
 * starts around 5 minutes and backs off to hours; RFC 5321 §4.5.4.1 asks for at least 4–5 days
 * before giving up).
 *
 * Callers may rely on: after attempt n (1-based) was deferred the next try is
 * `min(first · 2^(n-1), max)` later, but never after the submission's expiry; a recipient still
 * undelivered when a report arrives at or after `submittedAt + lifetime` is bounced. Each value
 * may be overridden by an env var in seconds (OUTBOUND_RETRY_FIRST_SECONDS,
 * OUTBOUND_RETRY_MAX_SECONDS, OUTBOUND_LIFETIME_SECONDS); invalid overrides are ignored.
 */
import type { Bindings } from "../env.ts";

/** First retry 5 minutes after the first deferral. */
export const RETRY_FIRST_SECONDS = 5 * 60;
/** Retries back off by doubling up to every 4 hours. */
export const RETRY_MAX_SECONDS = 4 * 60 * 60;
/** Give up (bounce) 5 days after submission. */
export const LIFETIME_SECONDS = 5 * 24 * 60 * 60;

export interface RetryPolicy {
  firstMs: number;
  maxMs: number;
  lifetimeMs: number;
}

function seconds(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function retryPolicy(env: Partial<Bindings>): RetryPolicy {
  return {
    firstMs: seconds(env.OUTBOUND_RETRY_FIRST_SECONDS, RETRY_FIRST_SECONDS) * 1000,
    maxMs: seconds(env.OUTBOUND_RETRY_MAX_SECONDS, RETRY_MAX_SECONDS) * 1000,
    lifetimeMs: seconds(env.OUTBOUND_LIFETIME_SECONDS, LIFETIME_SECONDS) * 1000,
  };
}

/** The delay after attempt `attempt` (1-based) was deferred. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const doubled = policy.firstMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(doubled, policy.maxMs);
}
