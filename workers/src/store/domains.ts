/**
 * Domains we receive mail for, with their MTA-STS policy (RFC 8461).
 *
 * Callers may rely on: names are lower-case; `createDomain` stores the domain and its DKIM keys
 * (store/dkim.ts) in one batch, and throws `conflict` when the name exists (also when a concurrent
 * request created it first); a domain with `mtaSts: null` publishes no policy, one created without
 * `mtaSts` a `testing` policy; a policy without its own mx list follows the domain's mxHosts; the
 * policy id is a digest of the policy text, so it changes exactly when the text does (also when
 * mxHosts change under a policy that follows them), which is what senders watch `_mta-sts` for.
 *
 * Settings (contract DomainSettings, read by store/addressing.ts): `updateDomainSettings` changes
 * only the fields given (`inbound` merged check by check) and answers 400 with the reason for a
 * catch-all that is not an account of the domain, a mirror target that is not one of our domains,
 * is the domain itself or would make a chain (the target mirrors another, or another domain mirrors
 * this one), and a plus delimiter holding letters or digits; the chain and catch-all conditions are
 * checked again inside the UPDATE, so concurrent changes cannot slip a chain past the check
 * (409 conflict then). An unknown domain is 404 not_found.
 */
import { asc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { z } from "zod";
import { InboundPolicy, MtaStsSettings, type CreateDomainRequest, type Domain, type DomainSettingsUpdate, type DomainWithSettings } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { runBatch, type Db } from "./db.ts";
import { generateDkimKeys, insertKeysIfNone } from "./dkim.ts";
import { accounts, domains, type DomainRow } from "./schema.ts";

export async function createDomain(db: Db, req: z.output<typeof CreateDomainRequest>, now = Date.now()): Promise<Domain> {
  // Left out, a domain publishes a `testing` policy (RFC 8461 §5: test before enforcing).
  const mtaSts = req.mtaSts === undefined ? MtaStsSettings.parse({}) : req.mtaSts;
  const values = {
    name: req.name,
    mtaStsMode: mtaSts?.mode ?? null,
    mtaStsMx: mtaSts?.mx ?? null,
    mtaStsMaxAge: mtaSts?.maxAge ?? null,
    mxHosts: req.mxHosts ?? null,
    createdAt: now,
  };
  const keys = await generateDkimKeys(now);
  // One batch, so no domain is ever seen without its keys; the keys statement adds nothing to a
  // domain that already existed with keys.
  const [inserted] = await runBatch<{ id: number }>(db, [
    db.insert(domains).values(values).onConflictDoNothing({ target: domains.name }).returning({ id: domains.id }),
    insertKeysIfNone(values.name, keys, now),
  ]);
  const id = inserted!.results[0]?.id;
  if (id === undefined) throw apiError("conflict", "Domain already exists");
  return toDomain({ id, ...values });
}

export async function listDomains(db: Db): Promise<Domain[]> {
  const rows = await db.select().from(domains).orderBy(asc(domains.name));
  return rows.map(toDomain);
}

export async function findDomain(db: Db, name: string): Promise<DomainRow | undefined> {
  const rows = await db.select().from(domains).where(eq(domains.name, name.toLowerCase())).limit(1);
  return rows[0];
}

export function toDomain(row: Pick<DomainRow, "id" | "name" | "mtaStsMode" | "mtaStsMx" | "mtaStsMaxAge" | "mxHosts">): Domain {
  if (row.mtaStsMode === null || row.mtaStsMaxAge === null) return { id: row.id, name: row.name, mtaSts: null };
  const policy = { mode: row.mtaStsMode, mx: row.mtaStsMx ?? mxHostsOf(row), maxAge: row.mtaStsMaxAge };
  return { id: row.id, name: row.name, mtaSts: { ...policy, policyId: policyId(renderMtaStsPolicy(policy)) } };
}

/** The relay host names of a domain, MX preference order: `mail.<name>` unless set. */
export function mxHostsOf(row: Pick<DomainRow, "name" | "mxHosts">): string[] {
  return row.mxHosts && row.mxHosts.length > 0 ? row.mxHosts : [`mail.${row.name}`];
}

/**
 * RFC 8461 §3.1 allows 1–32 alphanumerics. A digest of the policy text changes exactly when the
 * text does, with nothing stored to keep in step; it marks a change, so a 64-bit FNV-1a suffices.
 */
export function policyId(policyText: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(policyText)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

/** The policy file body of RFC 8461 §3.2 (CRLF line endings, one `mx:` line per pattern). */
export function renderMtaStsPolicy(policy: Pick<NonNullable<Domain["mtaSts"]>, "mode" | "mx" | "maxAge">): string {
  const lines = ["version: STSv1", `mode: ${policy.mode}`, ...policy.mx.map((mx) => `mx: ${mx}`), `max_age: ${policy.maxAge}`];
  return lines.map((l) => `${l}\r\n`).join("");
}

export async function domainWithSettings(db: Db, name: string): Promise<DomainWithSettings> {
  const target = alias(domains, "target");
  const rows = await db
    .select({ domain: domains, aliasOf: target.name, catchAll: accounts.address })
    .from(domains)
    .leftJoin(target, eq(target.id, domains.aliasOfDomainId))
    .leftJoin(accounts, eq(accounts.id, domains.catchAllAccountId))
    .where(eq(domains.name, name.trim().toLowerCase()))
    .limit(1);
  const row = rows[0];
  if (!row) throw apiError("not_found", "Domain is not served here");
  return {
    ...toDomain(row.domain),
    settings: {
      plusDelimiter: row.domain.plusDelimiter,
      catchAll: row.catchAll,
      aliasOf: row.aliasOf,
      inbound: InboundPolicy.parse(row.domain.inboundPolicy),
      mxHosts: mxHostsOf(row.domain),
      relayIps: row.domain.relayIps ?? [],
      reportLocalPart: row.domain.reportLocalPart,
    },
  };
}

export async function updateDomainSettings(db: Db, name: string, update: z.output<typeof DomainSettingsUpdate>): Promise<DomainWithSettings> {
  const domain = await findDomain(db, name.trim());
  if (!domain) throw apiError("not_found", "Domain is not served here");
  const set: Partial<typeof domains.$inferInsert> = {};
  const guards = [sql`1`];

  if (update.plusDelimiter !== undefined) {
    if (/[a-z0-9]/i.test(update.plusDelimiter)) throw apiError("bad_request", "plusDelimiter: letters and digits cannot be delimiters");
    set.plusDelimiter = update.plusDelimiter;
  }
  if (update.catchAll !== undefined) {
    if (update.catchAll === null) {
      set.catchAllAccountId = null;
    } else {
      const account = (await db.select({ id: accounts.id, domainId: accounts.domainId }).from(accounts).where(eq(accounts.address, update.catchAll)).limit(1))[0];
      if (!account || account.domainId !== domain.id) throw apiError("bad_request", `catchAll: ${update.catchAll} is not an account of ${domain.name}`);
      set.catchAllAccountId = account.id;
      guards.push(sql`EXISTS (SELECT 1 FROM ${accounts} WHERE ${accounts.id} = ${account.id} AND ${accounts.domainId} = ${domain.id})`);
    }
  }
  if (update.aliasOf !== undefined) {
    if (update.aliasOf === null) {
      set.aliasOfDomainId = null;
    } else {
      const targetName = update.aliasOf.trim().toLowerCase();
      if (targetName === domain.name) throw apiError("bad_request", "aliasOf: a domain cannot mirror itself");
      const target = await findDomain(db, targetName);
      if (!target) throw apiError("bad_request", `aliasOf: ${targetName} is not one of our domains`);
      if (target.aliasOfDomainId !== null) throw apiError("bad_request", `aliasOf: ${targetName} mirrors another domain itself (no chains)`);
      const mirrors = await db.select({ name: domains.name }).from(domains).where(eq(domains.aliasOfDomainId, domain.id)).limit(1);
      if (mirrors[0]) throw apiError("bad_request", `aliasOf: ${mirrors[0].name} mirrors ${domain.name}, which therefore cannot mirror another (no chains)`);
      set.aliasOfDomainId = target.id;
      guards.push(
        sql`(SELECT t.alias_of_domain_id FROM ${domains} AS t WHERE t.id = ${target.id}) IS NULL`,
        sql`NOT EXISTS (SELECT 1 FROM ${domains} AS m WHERE m.alias_of_domain_id = ${domain.id})`,
      );
    }
  }
  if (update.mxHosts !== undefined) set.mxHosts = update.mxHosts;
  if (update.relayIps !== undefined) set.relayIps = update.relayIps;
  if (update.reportLocalPart !== undefined) set.reportLocalPart = update.reportLocalPart;
  if (update.mtaSts !== undefined) {
    set.mtaStsMode = update.mtaSts?.mode ?? null;
    set.mtaStsMx = update.mtaSts?.mx ?? null;
    set.mtaStsMaxAge = update.mtaSts?.maxAge ?? null;
  }
  if (update.inbound !== undefined) {
    set.inboundPolicy = { ...InboundPolicy.parse(domain.inboundPolicy), ...stripUndefined(update.inbound) };
  }

  if (Object.keys(set).length > 0) {
    const [updated] = await runBatch(db, [
      db
        .update(domains)
        .set(set)
        .where(sql`${domains.id} = ${domain.id} AND ${sql.join(guards, sql` AND `)}`),
    ]);
    if (updated!.meta.changes === 0) throw apiError("conflict", "Domain settings changed at the same time; read them and try again");
  }
  return domainWithSettings(db, domain.name);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
