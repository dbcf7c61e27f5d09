/**
 * Admin: aliases (store/aliases.ts). `POST /` CreateAliasRequest → 201 Alias (422 not_found for a
 * domain we do not serve, 409 conflict when the address is an account or an alias, 400 with the
 * reason for a bad target); `GET /?domain=` → AliasList sorted by address (all domains without
 * `domain`; 404 for a domain we do not serve); `DELETE /:address` → 204 (404 not_found when it is
 * no alias; 400 for something that is no address). Changes apply to the next message.
 */
import { Hono } from "hono";
import type { z } from "zod";
import { CreateAliasRequest, EmailAddress, type Alias, type AliasList } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError, parseBody } from "../../errors.ts";
import { createAlias, deleteAlias, listAliases } from "../../store/aliases.ts";

const CreateAlias = CreateAliasRequest.strict();

export const aliasRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const req = await parseBody(c, CreateAlias);
    return c.json((await createAlias(c.var.db, req)) satisfies Alias, 201);
  })
  .get("/", async (c) => {
    const domain = c.req.query("domain");
    return c.json({ aliases: await listAliases(c.var.db, domain || undefined) } satisfies z.infer<typeof AliasList>);
  })
  .delete("/:address", async (c) => {
    const address = EmailAddress.safeParse(c.req.param("address"));
    if (!address.success) throw apiError("bad_request", "Invalid request: address: not an address");
    await deleteAlias(c.var.db, address.data);
    return c.body(null, 204);
  });
