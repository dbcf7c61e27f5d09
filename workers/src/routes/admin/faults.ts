/**
 * Test-only fault injection (contract: ArmFaultRequest). `POST /admin/v1/faults` arms a named
 * failure point for the next `count` requests that reach it; `tripFault` is called at that point.
 *
 * Callers may rely on: unless the worker runs with ALLOW_FAULT_INJECTION = "1", the endpoint is
 * 404 and `tripFault` never throws. The counter is module-level state: the local worker is one
 * isolate, which is all tests need; in production nothing can arm it.
 */
import { Hono } from "hono";
import { ArmFaultRequest } from "../../../../common/contract.ts";
import type { z } from "zod";
import type { AppEnv, Bindings } from "../../env.ts";
import { apiError, parseBody } from "../../errors.ts";

type FaultPoint = z.output<typeof ArmFaultRequest>["point"];

const armed = new Map<FaultPoint, number>();

function enabled(env: Bindings): boolean {
  return env.ALLOW_FAULT_INJECTION === "1";
}

/** Throws `unavailable` (as a real outage would surface) when the point is armed. */
export function tripFault(env: Bindings, point: FaultPoint): void {
  if (!enabled(env)) return;
  const left = armed.get(point) ?? 0;
  if (left <= 0) return;
  armed.set(point, left - 1);
  throw apiError("unavailable");
}

export const faultRoutes = new Hono<AppEnv>().post("/", async (c) => {
  if (!enabled(c.env)) throw apiError("not_found");
  const req = await parseBody(c, ArmFaultRequest);
  armed.set(req.point, req.count);
  return c.body(null, 204);
});
