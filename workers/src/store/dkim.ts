/**
 * DKIM keys of the domains we serve: what the relay signs with and what DNS must publish.
 *
 * Callers may rely on:
 * - Every domain has an RSA (2048-bit, e = 65537, rsa-sha256) and an ed25519 (ed25519-sha256,
 *   RFC 8463) key: createDomain stores them in the batch that creates the domain, and a domain
 *   without any key (created before keys existed) gets them on its first read here. That lazy
 *   insert is race-safe: it adds keys only to a domain that has none, so concurrent first reads
 *   end with one pair, which all of them return.
 * - Selectors are `s<YYYYMMDD>r` and `s<YYYYMMDD>e` (UTC creation date) for the first pair of a
 *   day, `s<YYYYMMDD>-<n>r` and `…-<n>e` for the n-th (n ≥ 2) made the same day by rotations: unique
 *   per domain. Keys are listed RSA first (then by creation), in every answer.
 * - A key signs from `active_from` until `retired_at` ({@link keyStatus}); signing keys are the
 *   active ones. Public keys are the stored keys except those retired more than
 *   RETIRED_KEY_PUBLISH_DAYS ago (a key must be in DNS before it signs and for a while after it
 *   stops, then leaves the record set).
 * - Rotation ({@link rotateDkimKeys}) keeps exactly one pair signing at any time: the new pair's
 *   `active_from` is the `retired_at` of the pair signing now; a pair still pending is superseded
 *   (retired at once, never having signed), so there is never more than one pending pair. It is
 *   one batch guarded by the newest key id it read: of concurrent rotations one wins, the others
 *   are 409 conflict and change nothing.
 * - An unknown domain is `not_found`; private keys leave this module only through
 *   {@link dkimSigningKeys}.
 */
import { asc, eq, sql } from "drizzle-orm";
import { RETIRED_KEY_PUBLISH_DAYS, type DkimAlgorithm, type DkimPublicKeys, type DkimSigningKeys } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { runBatch, type Db, type Query } from "./db.ts";
import { findDomain } from "./domains.ts";
import { dkimKeys, domains, type DkimKeyRow } from "./schema.ts";

export interface NewDkimKey {
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
  /** base64 of the SPKI DER (RSA) or of the raw 32-byte key (ed25519): the DNS `p=` tag. */
  publicKey: string;
}

/** `s<YYYYMMDD>` of the UTC date of `now`: what a pair's selectors start with. */
function dayPrefix(now: number): string {
  return `s${new Date(now).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** A fresh RSA and ed25519 key pair, named by the UTC date of `now`; `ordinal` ≥ 2 for a later pair of that day. */
export async function generateDkimKeys(now: number, ordinal = 1): Promise<NewDkimKey[]> {
  const name = ordinal > 1 ? `${dayPrefix(now)}-${ordinal}` : dayPrefix(now);
  const rsa = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const ed = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return [
    {
      selector: `${name}r`,
      algorithm: "rsa-sha256",
      privateKeyPem: await pkcs8Pem(rsa.privateKey),
      publicKey: toBase64(await exportBytes("spki", rsa.publicKey)),
    },
    {
      selector: `${name}e`,
      algorithm: "ed25519-sha256",
      privateKeyPem: await pkcs8Pem(ed.privateKey),
      // RFC 8463 §4.2: p= is the bare public key, not an SPKI structure.
      publicKey: toBase64(await exportBytes("raw", ed.publicKey)),
    },
  ];
}

/**
 * One statement storing `keys` for the domain named `domain` if, and only if, it has no key yet:
 * a no-op for an unknown domain or one that already has keys, so it can ride in any batch.
 */
export function insertKeysIfNone(domain: string, keys: readonly NewDkimKey[], now: number): Query {
  // The WHERE is required before ON CONFLICT in INSERT … SELECT (SQLite's parsing ambiguity).
  return sql`INSERT INTO ${dkimKeys} (domain_id, selector, algorithm, private_key_pem, public_key, active_from, created_at)
    SELECT d.id, k.value ->> '$.selector', k.value ->> '$.algorithm', k.value ->> '$.privateKeyPem', k.value ->> '$.publicKey', ${now}, ${now}
    FROM ${domains} AS d, json_each(${JSON.stringify(keys)}) AS k
    WHERE d.name = ${domain} AND NOT EXISTS (SELECT 1 FROM ${dkimKeys} AS e WHERE e.domain_id = d.id)
    ORDER BY k.key
    ON CONFLICT (domain_id, selector) DO NOTHING`;
}

export async function dkimSigningKeys(db: Db, domain: string, now: number): Promise<DkimSigningKeys> {
  const { name, keys } = await domainKeys(db, domain, now);
  return {
    domain: name,
    keys: keys.filter((k) => keyStatus(k, now) === "active").map((k) => ({ selector: k.selector, algorithm: k.algorithm, privateKeyPem: k.privateKeyPem })),
  };
}

/** Retired keys leave DNS this long after they stop signing (and the database at the next rotation). */
const PUBLISH_RETIRED_MS = RETIRED_KEY_PUBLISH_DAYS * 86_400_000;

export async function dkimPublicKeys(db: Db, domain: string, now: number): Promise<DkimPublicKeys> {
  const { name, keys } = await domainKeys(db, domain, now);
  return {
    domain: name,
    keys: keys.filter((k) => k.retiredAt === null || k.retiredAt > now - PUBLISH_RETIRED_MS).map((k) => ({
      selector: k.selector,
      algorithm: k.algorithm,
      dnsName: `${k.selector}._domainkey.${name}`,
      dnsValue: dnsValue(k.algorithm, k.publicKey),
      status: keyStatus(k, now),
      activeFrom: k.activeFrom,
      retiredAt: k.retiredAt,
      createdAt: k.createdAt,
    })),
  };
}

/** The TXT record value of RFC 6376 §3.6.1 (`k=ed25519` from RFC 8463 §4.2). */
export function dnsValue(algorithm: DkimAlgorithm, publicKey: string): string {
  return `v=DKIM1; k=${algorithm === "rsa-sha256" ? "rsa" : "ed25519"}; p=${publicKey}`;
}

async function domainKeys(db: Db, domain: string, now: number): Promise<{ id: number; name: string; keys: DkimKeyRow[] }> {
  const row = await findDomain(db, domain);
  if (!row) throw apiError("not_found", "No such domain");
  let keys = await keysOf(db, row.id);
  if (keys.length === 0) {
    await runBatch(db, [insertKeysIfNone(row.name, await generateDkimKeys(now), now)]);
    // Re-read rather than trust our own insert: a concurrent first read may have won.
    keys = await keysOf(db, row.id);
  }
  return { id: row.id, name: row.name, keys };
}

async function keysOf(db: Db, domainId: number): Promise<DkimKeyRow[]> {
  return db
    .select()
    .from(dkimKeys)
    .where(eq(dkimKeys.domainId, domainId))
    .orderBy(sql`${dkimKeys.algorithm} <> 'rsa-sha256'`, asc(dkimKeys.createdAt), asc(dkimKeys.id));
}

async function exportBytes(format: "spki" | "raw" | "pkcs8", key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array((await crypto.subtle.exportKey(format, key)) as ArrayBuffer);
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const b64 = toBase64(await exportBytes("pkcs8", key));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function keyStatus(key: Pick<DkimKeyRow, "activeFrom" | "retiredAt">, now: number): "pending" | "active" | "retired" {
  if (key.retiredAt !== null && key.retiredAt <= now) return "retired";
  return key.activeFrom <= now ? "active" : "pending";
}

/**
 * Adds a new key pair that signs from `now + delaySeconds`, when the pair signing now retires;
 * a pair still pending is retired at `now` (it never signed, and must not sign between its own
 * start and the new pair's); keys retired more than RETIRED_KEY_PUBLISH_DAYS ago are deleted.
 * Answers the keys as DNS must publish them afterwards.
 */
export async function rotateDkimKeys(db: Db, domain: string, delaySeconds: number, now: number): Promise<DkimPublicKeys> {
  const { id: domainId, name, keys } = await domainKeys(db, domain, now);
  const newestId = Math.max(...keys.map((k) => k.id));
  const activeFrom = now + delaySeconds * 1000;

  // The n-th pair of the day: one more than the highest ordinal among this day's selectors.
  const prefix = dayPrefix(now);
  let ordinal = 1;
  for (const k of keys) {
    const m = k.selector.startsWith(prefix) ? /^(?:-([0-9]+))?[re]$/.exec(k.selector.slice(prefix.length)) : null;
    if (m) ordinal = Math.max(ordinal, Number(m[1] ?? 1) + 1);
  }
  const fresh = await generateDkimKeys(now, ordinal);

  // Every statement holds only if no key was added since the read (ids only grow): a concurrent
  // rotation that committed first makes this whole batch a no-op, reported by the insert's count.
  const unchanged = sql`(SELECT max(id) FROM ${dkimKeys} WHERE domain_id = ${domainId}) = ${newestId}`;
  const results = await runBatch(db, [
    sql`DELETE FROM ${dkimKeys} WHERE domain_id = ${domainId} AND retired_at IS NOT NULL AND retired_at <= ${now - PUBLISH_RETIRED_MS} AND ${unchanged}`,
    sql`UPDATE ${dkimKeys} SET retired_at = CASE WHEN active_from <= ${now} THEN ${activeFrom} ELSE ${now} END
      WHERE domain_id = ${domainId} AND (retired_at IS NULL OR retired_at > ${now}) AND ${unchanged}`,
    sql`INSERT INTO ${dkimKeys} (domain_id, selector, algorithm, private_key_pem, public_key, active_from, retired_at, created_at)
      SELECT ${domainId}, k.value ->> '$.selector', k.value ->> '$.algorithm', k.value ->> '$.privateKeyPem', k.value ->> '$.publicKey',
        ${activeFrom}, NULL, ${now}
      FROM json_each(${JSON.stringify(fresh)}) AS k WHERE ${unchanged} ORDER BY k.key`,
  ]);
  if (results[2]!.meta.changes === 0) throw apiError("conflict", "Another rotation of this domain's keys came first");
  return dkimPublicKeys(db, name, now);
}
