/**
 * Test-only clock (contract: SetClockRequest). `POST /admin/v1/clock` shifts the edge's notion of
 * "now" for the outbound queue — due times, leases, backoff and the queue lifetime — so tests can
 * move time forward days without waiting.
 *
 * Callers may rely on: unless the worker runs with ALLOW_FAULT_INJECTION = "1", the endpoint is
 * 404 and `edgeNow` is exactly `Date.now()`. The offset is absolute (not cumulative) and is
 * module-level state, like the fault points in faults.ts: the local worker is one isolate.
 */
import { Hono } from "hono";
import { SetClockRequest } from "../../../../common/contract.ts";
import type { AppEnv, Bindings } from "../../env.ts";
import { apiError, parseBody } from "../../errors.ts";

let offsetMs = 0;

function enabled(env: Bindings): boolean {
  return env.ALLOW_FAULT_INJECTION === "1";
}

/** ms since the epoch as the outbound queue sees it. */
export function edgeNow(env: Bindings): number {
  return enabled(env) ? Date.now() + offsetMs : Date.now();
}

export const clockRoutes = new Hono<AppEnv>().post("/", async (c) => {
  if (!enabled(c.env)) throw apiError("not_found");
  const req = await parseBody(c, SetClockRequest);
  offsetMs = req.offsetMs;
  return c.body(null, 204);
});
