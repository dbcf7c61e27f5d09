/**
 * Bearer checks for the two machine credentials: RELAY_KEY guards /relay/v1, ADMIN_TOKEN guards
 * /admin/v1.
 *
 * Callers may rely on: the comparison is constant-time and does not leak the key's length (both
 * sides are hashed to SHA-256 first); an unset or empty secret rejects every request rather than
 * accepting an empty token; a failure is 401 `unauthorized`.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv, Bindings } from "../env.ts";
import { apiError } from "../errors.ts";

export function requireBearer(secret: "RELAY_KEY" | "ADMIN_TOKEN"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!(await bearerMatches(c.req.header("authorization"), c.env[secret]))) throw apiError("unauthorized");
    await next();
  };
}

export async function bearerMatches(header: string | undefined, expected: Bindings["RELAY_KEY"] | undefined): Promise<boolean> {
  if (!expected) return false;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  const given = m?.[1] ?? "";
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  // Evaluate the digest comparison even for an absent header, so its cost says nothing either.
  return crypto.subtle.timingSafeEqual(a, b) && m !== null;
}

async function sha256(s: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
}
