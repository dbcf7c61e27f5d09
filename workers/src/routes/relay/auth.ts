/**
 * `POST /relay/v1/auth`: SMTP AUTH and IMAP LOGIN. The username is the full address
 * (case-insensitive). A wrong password and an unknown user get the same 401 auth_failed, with the
 * same generic message and (through store/accounts.ts) the same cost, so neither reveals which
 * addresses exist.
 */
import { Hono } from "hono";
import { AuthRequest, type AuthResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError, parseBody } from "../../errors.ts";
import { authenticate } from "../../store/accounts.ts";

export const authRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const req = await parseBody(c, AuthRequest);
  const result = await authenticate(c.var.db, req.username, req.password);
  if (!result) throw apiError("auth_failed");
  return c.json(result satisfies AuthResult);
});
