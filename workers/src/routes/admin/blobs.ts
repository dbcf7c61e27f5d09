/**
 * Admin: `GET /orphans` lists R2 blobs no message references (OrphanBlobList), the garbage a
 * delivery leaves when it fails between the upload and the D1 batch. Reporting only: deleting
 * is left to a collector that also checks the blob's age (see store/blobs.ts).
 */
import { Hono } from "hono";
import type { OrphanBlobList } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { listOrphans } from "../../store/blobs.ts";

export const adminBlobRoutes = new Hono<AppEnv>().get("/orphans", async (c) =>
  c.json((await listOrphans(c.var.db, c.env.MAIL)) satisfies OrphanBlobList),
);
