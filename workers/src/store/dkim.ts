/**
 * DKIM keys of the domains we serve: what the relay signs with and what DNS must publish.
 *
 * Callers may rely on:
 * - Every domain has an RSA (2048-bit, e = 65537, rsa-sha256) and an ed25519 (ed25519-sha256,
 *   RFC 8463) key: createDomain stores them in the batch that creates the domain, and a domain
 *   without any key (created before keys existed) gets them on its first read here. That lazy
 *   insert is race-safe: it adds keys only to a domain that has none, so concurrent first reads
 *   end with one pair, which all of them return.
 * - Selectors are `s<YYYYMMDD>r` and `s<YYYYMMDD>e` (UTC creation date), so a later rotation gets
 *   new names. Keys are listed RSA first (then by creation), in every answer.
 * - Signing keys are the active ones; public keys are all stored keys (a key must be in DNS
 *   before it signs and for a while after it stops).
 * - An unknown domain is `not_found`; private keys leave this module only through
 *   {@link dkimSigningKeys}.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { DkimAlgorithm, DkimPublicKeys, DkimSigningKeys } from "../../../common/contract.ts";
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

/** A fresh RSA and ed25519 key pair, named by the UTC date of `now`. */
export async function generateDkimKeys(now: number): Promise<NewDkimKey[]> {
  const day = new Date(now).toISOString().slice(0, 10).replaceAll("-", "");
  const rsa = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const ed = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return [
    {
      selector: `s${day}r`,
      algorithm: "rsa-sha256",
      privateKeyPem: await pkcs8Pem(rsa.privateKey),
      publicKey: toBase64(await exportBytes("spki", rsa.publicKey)),
    },
    {
      selector: `s${day}e`,
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

export async function dkimPublicKeys(db: Db, domain: string, now: number): Promise<DkimPublicKeys> {
  const { name, keys } = await domainKeys(db, domain, now);
  return {
    domain: name,
    keys: keys.map((k) => ({
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

async function domainKeys(db: Db, domain: string, now: number): Promise<{ name: string; keys: DkimKeyRow[] }> {
  const row = await findDomain(db, domain);
  if (!row) throw apiError("not_found", "No such domain");
  let keys = await keysOf(db, row.id);
  if (keys.length === 0) {
    await runBatch(db, [insertKeysIfNone(row.name, await generateDkimKeys(now), now)]);
    // Re-read rather than trust our own insert: a concurrent first read may have won.
    keys = await keysOf(db, row.id);
  }
  return { name: row.name, keys };
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

/** Adds a new key pair that signs from `now + delaySeconds`, when the signing keys retire. (issue 6: to be written) */
export async function rotateDkimKeys(db: Db, domain: string, delaySeconds: number, now: number): Promise<DkimPublicKeys> {
  void delaySeconds;
  throw apiError("internal", "not implemented yet");
  return dkimPublicKeys(db, domain, now);
}
