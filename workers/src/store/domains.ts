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
 * only the fields given (`inbound` merged check by check; `mtaSts` replaced whole, its defaults
 * filling what the request left out) and answers 400 with the reason for a catch-all that is not
 * an account of the domain, a mirror target that is not one of our domains, is the domain itself or
 * would make a chain (the target mirrors another, or another domain mirrors this one), a plus
 * delimiter holding letters or digits, an mx host or relay address listed twice, a report local
 * part that is `postmaster` or already an account or alias of the domain, and an `enforce` policy
 * whose mx patterns miss one of the MX hosts (createDomain refuses the last two as well: senders
 * that enforce the policy would refuse to deliver to that host). Every condition is checked again
 * inside the UPDATE, so a concurrent change cannot slip past the check (409 conflict then).
 * An unknown domain is 404 not_found.
 *
 * `deleteDomain` removes a domain with its DKIM keys and stored reports (foreign-key cascades) in
 * one statement, and only while it has no account, no alias and no mirror (409 conflict naming
 * what is left; checked inside the DELETE, so an account created meanwhile is never orphaned).
 */
import { asc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { z } from "zod";
import { InboundPolicy, MtaStsSettings, type CreateDomainRequest, type Domain, type DomainSettingsUpdate, type DomainWithSettings } from "../../../common/contract.ts";
import { mxPatternMatches } from "../../../common/mta-sts.ts";
import { apiError } from "../errors.ts";
import { runBatch, statement, type Db } from "./db.ts";
import { generateDkimKeys, insertKeysIfNone } from "./dkim.ts";
import { accounts, aliases, domains, type DomainRow } from "./schema.ts";

export async function createDomain(db: Db, req: z.output<typeof CreateDomainRequest>, now = Date.now()): Promise<Domain> {
  // Left out, a domain publishes a `testing` policy (RFC 8461 §5: test before enforcing).
  const mtaSts = req.mtaSts === undefined ? MtaStsSettings.parse({}) : req.mtaSts;
  if (req.mxHosts) refuseDuplicates("mxHosts", req.mxHosts);
  refuseUncoveredMxHosts(mtaSts, mxHostsOf({ name: req.name, mxHosts: req.mxHosts ?? null }));
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

/**
 * An `enforce` policy that leaves out one of our own MX hosts makes every sender that honours it
 * refuse that host: mail would stop arriving there. `testing` and `none` only report, so they may.
 */
function refuseUncoveredMxHosts(policy: { mode: string; mx?: string[] | null | undefined } | null, mxHosts: readonly string[]): void {
  if (policy?.mode !== "enforce" || !policy.mx) return;
  const missed = mxHosts.find((host) => !policy.mx!.some((p) => mxPatternMatches(p, host)));
  if (missed !== undefined) {
    throw apiError("bad_request", `mtaSts.mx: the MX host ${missed} matches no pattern, so senders enforcing the policy would refuse it (add it, or leave mx out to follow mxHosts)`);
  }
}

function refuseDuplicates(field: string, values: readonly string[]): void {
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice !== undefined) throw apiError("bad_request", `${field}: ${twice} is listed twice`);
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
  if (update.mxHosts !== undefined) {
    if (update.mxHosts) refuseDuplicates("mxHosts", update.mxHosts);
    set.mxHosts = update.mxHosts;
  }
  if (update.relayIps !== undefined) {
    // SPF compares addresses, not spellings; one spelling per address keeps the record short.
    const ips = update.relayIps?.map((ip) => ip.toLowerCase()) ?? null;
    if (ips) refuseDuplicates("relayIps", ips);
    set.relayIps = ips;
  }
  if (update.reportLocalPart !== undefined) {
    const local = update.reportLocalPart;
    const address = `${local}@${domain.name}`;
    // RFC 5321 §4.5.1: postmaster must reach a person, and the report address is parsed, never filed.
    if (local === "postmaster") throw apiError("bad_request", "reportLocalPart: postmaster must reach a person, not the report parser");
    if (local !== domain.reportLocalPart) {
      const taken = sql`(EXISTS (SELECT 1 FROM ${accounts} WHERE ${accounts.address} = ${address}) OR EXISTS (SELECT 1 FROM ${aliases} WHERE ${aliases.address} = ${address}))`;
      const row = await statement(db, sql`SELECT ${taken} AS taken`).first<{ taken: number }>();
      if (row?.taken) throw apiError("bad_request", `reportLocalPart: ${address} is an account or alias; its mail would go to the report parser`);
      guards.push(sql`NOT ${taken}`);
    }
    set.reportLocalPart = local;
  }
  if (update.mtaSts !== undefined) {
    set.mtaStsMode = update.mtaSts?.mode ?? null;
    set.mtaStsMx = update.mtaSts?.mx ?? null;
    set.mtaStsMaxAge = update.mtaSts?.maxAge ?? null;
  }
  if (update.mxHosts !== undefined || update.mtaSts !== undefined) {
    const mode = update.mtaSts !== undefined ? (update.mtaSts?.mode ?? null) : domain.mtaStsMode;
    const mx = update.mtaSts !== undefined ? (update.mtaSts?.mx ?? null) : domain.mtaStsMx;
    const hosts = update.mxHosts !== undefined ? update.mxHosts : domain.mxHosts;
    refuseUncoveredMxHosts(mode === null ? null : { mode, mx }, mxHostsOf({ name: domain.name, mxHosts: hosts }));
    // The check read the other half from the row: it must still be what the UPDATE changes.
    guards.push(sql`${domains.mtaStsMode} IS ${domain.mtaStsMode}`, sql`${domains.mtaStsMx} IS ${jsonOrNull(domain.mtaStsMx)}`, sql`${domains.mxHosts} IS ${jsonOrNull(domain.mxHosts)}`);
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

/**
 * Removes a domain that nothing depends on. Its DKIM keys and stored TLS-RPT/DMARC reports go
 * with it through the schema's ON DELETE CASCADE, in the same statement; accounts, aliases and
 * mirrors are checked in that statement's WHERE too, so a concurrent account creation either
 * finds no domain or makes this DELETE change nothing (then 409, or 404 if it vanished).
 */
export async function deleteDomain(db: Db, name: string): Promise<void> {
  const domain = await findDomain(db, name.trim());
  if (!domain) throw apiError("not_found", "Domain is not served here");
  await refuseDependents(db, domain);
  const [deleted] = await runBatch(db, [
    sql`DELETE FROM ${domains} WHERE ${domains.id} = ${domain.id}
      AND NOT EXISTS (SELECT 1 FROM ${accounts} WHERE ${accounts.domainId} = ${domain.id})
      AND NOT EXISTS (SELECT 1 FROM ${aliases} WHERE ${aliases.domainId} = ${domain.id})
      AND NOT EXISTS (SELECT 1 FROM ${domains} AS m WHERE m.alias_of_domain_id = ${domain.id})`,
  ]);
  if (deleted!.meta.changes > 0) return;
  // Something changed between the check and the DELETE: say what, as if it had been there first.
  const current = await findDomain(db, domain.name);
  if (!current) throw apiError("not_found", "Domain is not served here");
  await refuseDependents(db, current);
  throw apiError("conflict", "Domain changed at the same time; try again");
}

/** 409 naming what still depends on the domain, so the operator knows what to remove first. */
async function refuseDependents(db: Db, domain: DomainRow): Promise<void> {
  const row = await statement(db, sql`SELECT
    (SELECT count(*) FROM ${accounts} WHERE ${accounts.domainId} = ${domain.id}) AS accounts,
    (SELECT count(*) FROM ${aliases} WHERE ${aliases.domainId} = ${domain.id}) AS aliases,
    (SELECT group_concat(name, ', ') FROM (SELECT m.name FROM ${domains} AS m WHERE m.alias_of_domain_id = ${domain.id} ORDER BY m.name)) AS mirrors`).first<{ accounts: number; aliases: number; mirrors: string | null }>();
  const left: string[] = [];
  if (row?.accounts) left.push(`${row.accounts} ${row.accounts === 1 ? "account" : "accounts"}`);
  if (row?.aliases) left.push(`${row.aliases} ${row.aliases === 1 ? "alias" : "aliases"}`);
  if (row?.mirrors) left.push(`mirror domains (${row.mirrors})`);
  if (left.length > 0) throw apiError("conflict", `Domain ${domain.name} still has ${left.join(" and ")}; remove them first`);
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
