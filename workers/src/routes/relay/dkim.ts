/**
 * `GET /relay/v1/domains/:domain/dkim` → DkimSigningKeys: the private keys the relay signs a
 * domain's outbound mail with (store/dkim.ts). The relay caches them briefly and never stores them.
 *
 * Callers may rely on: a domain we do not serve is 404 not_found; a domain always has keys here
 * (missing ones are created on this read), RSA first.
 */
import { Hono } from "hono";
import type { DkimSigningKeys } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { dkimSigningKeys } from "../../store/dkim.ts";

export const dkimRoutes = new Hono<AppEnv>().get("/", async (c) =>
  c.json((await dkimSigningKeys(c.var.db, c.req.param("domain") ?? "", Date.now())) satisfies DkimSigningKeys),
);
