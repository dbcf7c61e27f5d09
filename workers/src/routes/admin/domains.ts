/**
 * Admin: domains we serve. POST creates one (201 Domain, 409 conflict if it exists); GET lists
 * all as `{ domains }`, sorted by name.
 */
import { Hono } from "hono";
import { CreateDomainRequest, type Domain } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { createDomain, listDomains } from "../../store/domains.ts";

export const domainRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateDomainRequest);
    return c.json((await createDomain(c.var.db, req)) satisfies Domain, 201);
  })
  .get("/", async (c) => c.json({ domains: await listDomains(c.var.db) }));
