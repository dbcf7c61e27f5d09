/**
 * Aliases (admin): an address of one of our domains delivering to accounts or addresses of ours
 * (resolved again at delivery, see store/addressing.ts) and to external addresses (forwarded).
 *
 * Callers may rely on: addresses and targets are stored lower-case, targets without duplicates in
 * the order given; `createAlias` answers 422 not_found for a domain we do not serve (as accounts
 * do), 409 conflict when the address is an account or already an alias, and 400 with the reason
 * for a target that is the alias itself, a target of our domains that resolves to nothing now (an
 * alias may name another alias, an account's plus-address, a mirror domain's address…), or an
 * external target whose domain is not a domain name; `listAliases` is sorted by address (404 for
 * a domain we do not serve); `deleteAlias` is 404 for an address that is no alias. An account can
 * never be created with an alias's address (store/accounts.ts), so the two never collide.
 */
import { asc, eq } from "drizzle-orm";
import type { z } from "zod";
import { HOST_NAME, type Alias, type CreateAliasRequest } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { AddressBook, domainOf } from "./addressing.ts";
import type { Db } from "./db.ts";
import { findDomain } from "./domains.ts";
import { accounts, aliases } from "./schema.ts";

export async function createAlias(db: Db, req: z.output<typeof CreateAliasRequest>, now = Date.now()): Promise<Alias> {
  const address = req.address;
  const domain = await findDomain(db, domainOf(address));
  if (!domain) throw apiError("not_found", "Domain is not served here", 422);
  if (address === `${domain.reportLocalPart}@${domain.name}`) throw apiError("conflict", "This address takes the domain's DMARC and TLS reports");
  if ((await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.address, address)).limit(1)).length > 0) {
    throw apiError("conflict", "An account has this address");
  }
  const targets = [...new Set(req.targets)];
  const book = new AddressBook(db);
  await book.prefetch(targets);
  for (const target of targets) {
    if (target === address) throw apiError("bad_request", `targets: ${target} is the alias itself`);
    const resolved = await book.resolve(target);
    if (resolved.result === "unknown_user") throw apiError("bad_request", `targets: ${target} is no address of ours`);
    if (resolved.result === "foreign_domain" && !HOST_NAME.test(domainOf(target))) {
      throw apiError("bad_request", `targets: ${target} does not end in a domain name`);
    }
  }
  const inserted = await db
    .insert(aliases)
    .values({ domainId: domain.id, address, targets, createdAt: now })
    .onConflictDoNothing({ target: aliases.address })
    .returning({ id: aliases.id });
  if (inserted.length === 0) throw apiError("conflict", "Alias already exists");
  return { address, targets, createdAt: now };
}

export async function listAliases(db: Db, domainName?: string): Promise<Alias[]> {
  let domainId: number | undefined;
  if (domainName !== undefined) {
    const domain = await findDomain(db, domainName.trim());
    if (!domain) throw apiError("not_found", "Domain is not served here");
    domainId = domain.id;
  }
  const rows = await db
    .select({ address: aliases.address, targets: aliases.targets, createdAt: aliases.createdAt })
    .from(aliases)
    .where(domainId === undefined ? undefined : eq(aliases.domainId, domainId))
    .orderBy(asc(aliases.address));
  return rows;
}

export async function deleteAlias(db: Db, address: string): Promise<void> {
  const deleted = await db.delete(aliases).where(eq(aliases.address, address)).returning({ id: aliases.id });
  if (deleted.length === 0) throw apiError("not_found", "No such alias");
}
