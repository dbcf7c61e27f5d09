/**
 * Domains we receive mail for, with their MTA-STS policy (RFC 8461).
 *
 * Callers may rely on: names are lower-case; `createDomain` stores the domain and its DKIM keys
 * (store/dkim.ts) in one batch, and throws `conflict` when the name exists (also when a concurrent
 * request created it first); a domain with `mtaSts: null` publishes no policy; the policy id is
 * the UTC creation time (`20261124T010203Z`), so it changes whenever a policy is (re)created,
 * which is what senders watch the `_mta-sts` TXT record for.
 */
import { asc, eq } from "drizzle-orm";
import type { z } from "zod";
import type { CreateDomainRequest, Domain } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { runBatch, type Db } from "./db.ts";
import { generateDkimKeys, insertKeysIfNone } from "./dkim.ts";
import { domains, type DomainRow } from "./schema.ts";

export async function createDomain(db: Db, req: z.output<typeof CreateDomainRequest>, now = Date.now()): Promise<Domain> {
  const values = {
    name: req.name,
    mtaStsMode: req.mtaSts?.mode ?? null,
    mtaStsMx: req.mtaSts?.mx ?? null,
    mtaStsMaxAge: req.mtaSts?.maxAge ?? null,
    mtaStsPolicyId: req.mtaSts ? policyId(now) : null,
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

export function toDomain(row: DomainRow): Domain {
  const hasPolicy = row.mtaStsMode !== null && row.mtaStsMx !== null && row.mtaStsMaxAge !== null && row.mtaStsPolicyId !== null;
  return {
    id: row.id,
    name: row.name,
    mtaSts: hasPolicy
      ? { mode: row.mtaStsMode!, mx: row.mtaStsMx!, maxAge: row.mtaStsMaxAge!, policyId: row.mtaStsPolicyId! }
      : null,
  };
}

/** RFC 8461 §3.1 allows 1–32 alphanumerics; a compact UTC timestamp sorts and reads well. */
export function policyId(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

/** The policy file body of RFC 8461 §3.2 (CRLF line endings, one `mx:` line per pattern). */
export function renderMtaStsPolicy(policy: NonNullable<Domain["mtaSts"]>): string {
  const lines = ["version: STSv1", `mode: ${policy.mode}`, ...policy.mx.map((mx) => `mx: ${mx}`), `max_age: ${policy.maxAge}`];
  return lines.map((l) => `${l}\r\n`).join("");
}
