/**
 * Admin: domains we serve. POST creates one with its DKIM keys (201 Domain, 409 conflict if it
 * exists); GET lists all as `{ domains }`, sorted by name; `GET /:domain/dkim` gives the DKIM
 * public keys as DNS must publish them (DkimPublicKeys; 404 not_found for a domain we do not serve).
 */
import { Hono } from "hono";
import { CreateDomainRequest, type DkimPublicKeys, type Domain } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { dkimPublicKeys } from "../../store/dkim.ts";
import { createDomain, listDomains } from "../../store/domains.ts";

export const domainRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateDomainRequest);
    return c.json((await createDomain(c.var.db, req)) satisfies Domain, 201);
  })
  .get("/", async (c) => c.json({ domains: await listDomains(c.var.db) }))
  .get("/:domain/dkim", async (c) => c.json((await dkimPublicKeys(c.var.db, c.req.param("domain"), Date.now())) satisfies DkimPublicKeys));
