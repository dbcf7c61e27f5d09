/**
 * Admin: received mail (store/received.ts). `GET /:deliveryId` → StoredDelivery (404 not_found);
 * `GET /?domain=&verdict=&dmarc=` → StoredDeliveryList, newest first, at most 500. Every query
 * parameter is checked: `domain` a domain name, `verdict` accept or quarantine, `dmarc` an RFC 8601
 * result keyword (pass, fail, none…); an empty value is no filter; a malformed value or a parameter
 * this route does not know is 400 bad_request naming it.
 */
import { Hono } from "hono";
import { z } from "zod";
import { HOST_NAME, type StoredDelivery, type StoredDeliveryList } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError } from "../../errors.ts";
import { getDelivery, listDeliveries } from "../../store/received.ts";

const Filter = z
  .object({
    domain: z
      .string()
      .toLowerCase()
      .regex(HOST_NAME, "not a domain name")
      .optional(),
    verdict: z.enum(["accept", "quarantine"]).optional(),
    dmarc: z
      .string()
      .toLowerCase()
      .regex(/^[a-z]{1,20}$/, "not a result keyword")
      .optional(),
  })
  .strict();

export const deliveryRecordRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const query = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ""));
    const parsed = Filter.safeParse(query);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
      throw apiError("bad_request", `Invalid query: ${reasons.slice(0, 5).join("; ")}`);
    }
    return c.json({ deliveries: await listDeliveries(c.var.db, parsed.data) } satisfies z.infer<typeof StoredDeliveryList>);
  })
  .get("/:deliveryId", async (c) => c.json((await getDelivery(c.var.db, c.req.param("deliveryId"))) satisfies StoredDelivery));
