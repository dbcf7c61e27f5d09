/**
 * What the admin sees of received mail (contract StoredDelivery): the deliveries that came in
 * through the MX (`POST /relay/v1/deliveries`), with their envelope, authentication results and
 * where the copies went, as recorded when they were accepted (an expunge later changes nothing
 * here). Copies made by submission, APPEND and DSNs are not received mail and are not listed.
 *
 * Callers may rely on: `getDelivery` is 404 not_found for an unknown id (or one that is no
 * received mail); `listDeliveries` is newest first, at most 500, filtered by any of: a domain (an
 * envelope recipient at that domain, as the sender wrote it), the verdict and the DMARC result
 * (exact keywords; mail without authentication results matches neither filter).
 */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import type { StoredDelivery } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import type { Db } from "./db.ts";
import { deliveries } from "./schema.ts";

const LIST_LIMIT = 500;

export interface DeliveryFilter {
  domain?: string | undefined;
  verdict?: "accept" | "quarantine" | undefined;
  dmarc?: string | undefined;
}

export async function getDelivery(db: Db, id: string): Promise<StoredDelivery> {
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.id, id), sql`${deliveries.recipients} IS NOT NULL`))
    .limit(1);
  if (!rows[0]) throw apiError("not_found", "No such delivery");
  return toStored(rows[0]);
}

export async function listDeliveries(db: Db, filter: DeliveryFilter): Promise<StoredDelivery[]> {
  const where: SQL[] = [sql`${deliveries.recipients} IS NOT NULL`];
  if (filter.domain !== undefined) {
    // The domain was checked against a domain-name pattern: no LIKE wildcard can be in it.
    where.push(sql`EXISTS (SELECT 1 FROM json_each(${deliveries.recipients}) AS r WHERE r.value LIKE ${`%@${filter.domain}`})`);
  }
  if (filter.verdict !== undefined) where.push(sql`json_extract(${deliveries.authentication}, '$.verdict') = ${filter.verdict}`);
  if (filter.dmarc !== undefined) where.push(sql`json_extract(${deliveries.authentication}, '$.dmarc') = ${filter.dmarc}`);
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...where))
    .orderBy(desc(deliveries.createdAt), desc(sql`rowid`))
    .limit(LIST_LIMIT);
  return rows.map(toStored);
}

function toStored(row: typeof deliveries.$inferSelect): StoredDelivery {
  return {
    deliveryId: row.id,
    mailFrom: row.mailFrom,
    recipients: row.recipients ?? [],
    authentication: row.authentication ?? null,
    copies: (row.copies ?? []).map((c) => ({ address: c.address, mailbox: c.mailbox })),
    forwarded: row.forwarded ?? [],
    createdAt: row.createdAt,
  };
}
