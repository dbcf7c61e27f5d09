/**
 * Admin: domains we serve. POST creates one with its DKIM keys (201 Domain, 409 conflict if it
 * exists); GET lists all as `{ domains }`, sorted by name; `GET /:domain` and `PATCH /:domain`
 * read and change its addressing and inbound settings (DomainWithSettings; DomainSettingsUpdate,
 * where a field left out stays as it is and an unknown field is 400; the reasons for a 400 are
 * listed in store/domains.ts); `DELETE /:domain` removes it (204; 409 conflict while accounts,
 * aliases or mirrors depend on it); `GET /:domain/dkim` gives the DKIM public keys as DNS must
 * publish them (DkimPublicKeys); `GET /:domain/dns` every record the domain must publish
 * (DnsRecordSet, store/dns-records.ts). A domain we do not serve is 404 not_found everywhere.
 * Settings apply to the next message: nothing is cached at the edge.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  CreateDomainRequest,
  DomainSettingsUpdate,
  InboundAction,
  InboundPolicy,
  RotateDkimRequest,
  type DkimPublicKeys,
  type DnsRecordSet,
  type Domain,
  type DomainWithSettings,
} from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { parseBody } from "../../errors.ts";
import { dkimPublicKeys, rotateDkimKeys } from "../../store/dkim.ts";
import { domainDnsRecords } from "../../store/dns-records.ts";
import { createDomain, deleteDomain, domainWithSettings, listDomains, updateDomainSettings } from "../../store/domains.ts";

/**
 * Strict, so a misspelt field ("catchall") is an error rather than silently nothing. `inbound` is
 * spelt out without defaults: the contract's InboundPolicy.partial() fills every check left out
 * with its default under zod 4, which would reset checks the request did not mention.
 */
const InboundUpdate = z
  .object(
    Object.fromEntries(Object.keys(InboundPolicy.shape).map((k) => [k, InboundAction.optional()])) as {
      [K in keyof InboundPolicy]: z.ZodOptional<typeof InboundAction>;
    },
  )
  .strict();
const SettingsUpdate = DomainSettingsUpdate.extend({ inbound: InboundUpdate.optional() }).strict();

export const domainRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateDomainRequest);
    return c.json((await createDomain(c.var.db, req)) satisfies Domain, 201);
  })
  .get("/", async (c) => c.json({ domains: await listDomains(c.var.db) }))
  .get("/:domain", async (c) => c.json((await domainWithSettings(c.var.db, c.req.param("domain"))) satisfies DomainWithSettings))
  .patch("/:domain", async (c) => {
    const req = await parseBody(c, SettingsUpdate);
    return c.json((await updateDomainSettings(c.var.db, c.req.param("domain"), req)) satisfies DomainWithSettings);
  })
  .delete("/:domain", async (c) => {
    await deleteDomain(c.var.db, c.req.param("domain"));
    return c.body(null, 204);
  })
  .get("/:domain/dns", async (c) => {
    const set = await domainDnsRecords(c.var.db, c.req.param("domain"), edgeHost(c.env.EDGE_HOSTNAME, c.req.url), Date.now());
    return c.json(set satisfies DnsRecordSet);
  })
  .get("/:domain/dkim", async (c) => c.json((await dkimPublicKeys(c.var.db, c.req.param("domain"), Date.now())) satisfies DkimPublicKeys))
  .post("/:domain/dkim/rotate", async (c) => {
    const req = await parseBody(c, RotateDkimRequest.strict());
    return c.json((await rotateDkimKeys(c.var.db, c.req.param("domain"), req.delaySeconds, Date.now())) satisfies DkimPublicKeys);
  });

/** The Worker's public host name: configured, else the one this request reached (no port, no final dot). */
function edgeHost(configured: string | undefined, requestUrl: string): string {
  const host = configured?.trim() || new URL(requestUrl).hostname;
  return host.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}
