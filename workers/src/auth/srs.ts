/**
 * Sender Rewriting Scheme for mail we forward (an alias's external target): the envelope sender
 * becomes an address of ours, so the forward passes SPF at the next hop, and a bounce of it comes
 * back to us, where the reverse rewrite (store/addressing.ts) sends it on to the original sender.
 *
 * Callers may rely on: `srsForward("alice@example.com", "ours.test")` is
 * `SRS0=HHHHHH=TT=example.com=alice@ours.test` — HHHHHH an HMAC-SHA256 of TT, the domain and the
 * local part (lower case, base32, so it survives lower-casing on the way back), TT the day number
 * mod 1024 in base32 (as libsrs2 and postsrsd write it); the null sender "" stays "" (a bounce is
 * never bounced) and a sender without a domain also becomes "", as nothing could be returned to
 * it. `srsReverse` accepts only an address whose hash verifies and whose day is at most
 * MAX_AGE_DAYS old; anything else is null (no open relay for forged SRS addresses). The key is
 * SRS_SECRET, or, when unset, one derived from RELAY_KEY (so a deployment works without another
 * secret; rotating RELAY_KEY then invalidates bounces of mail forwarded before).
 */
import type { Bindings } from "../env.ts";

/** How long a bounce of forwarded mail is still returned to its sender (postsrsd's default too). */
export const MAX_AGE_DAYS = 21;
const HASH_CHARS = 6;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const DAY_MS = 86_400_000;

/** What address resolution needs to reverse SRS addresses: the key (derived once, when first needed) and the time. */
export interface SrsContext {
  key: () => Promise<CryptoKey>;
  now: number;
}

export function srsContext(env: Pick<Bindings, "SRS_SECRET" | "RELAY_KEY">, now: number): SrsContext {
  let key: Promise<CryptoKey> | undefined;
  return { key: () => (key ??= srsKey(env)), now };
}

export async function srsKey(env: Pick<Bindings, "SRS_SECRET" | "RELAY_KEY">): Promise<CryptoKey> {
  const hmac = { name: "HMAC", hash: "SHA-256" } as const;
  let secret: ArrayBuffer | Uint8Array;
  if (env.SRS_SECRET) {
    secret = new TextEncoder().encode(env.SRS_SECRET);
  } else {
    // Not RELAY_KEY itself: the SRS key must not let anyone who sees forwarded mail learn the relay key.
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.RELAY_KEY ?? ""), hmac, false, ["sign"]);
    secret = await crypto.subtle.sign("HMAC", base, new TextEncoder().encode("edgemail SRS key v1"));
  }
  return crypto.subtle.importKey("raw", secret, hmac, false, ["sign"]);
}

/** The envelope sender for forwarding mail from `mailFrom` through `viaDomain` (one of ours). */
export async function srsForward(key: CryptoKey, mailFrom: string, viaDomain: string, now: number): Promise<string> {
  const at = mailFrom.lastIndexOf("@");
  if (mailFrom === "" || at <= 0 || at === mailFrom.length - 1) return "";
  const local = mailFrom.slice(0, at);
  const domain = mailFrom.slice(at + 1).toLowerCase();
  const tt = timestamp(now);
  return `SRS0=${await hash(key, tt, domain, local)}=${tt}=${domain}=${local}@${viaDomain}`;
}

/**
 * The original sender named by an SRS0 address of ours, or null when `address` is not one, its
 * hash is wrong or it is too old. Case-insensitive: SMTP may have lower-cased it.
 */
export async function srsReverse(key: CryptoKey, address: string, now: number): Promise<string | null> {
  const at = address.lastIndexOf("@");
  const m = /^srs0=([a-z2-7]+)=([a-z2-7]{2})=([^=@]+)=(.+)$/i.exec(address.slice(0, at));
  if (!m) return null;
  const [, given, tt, domain, local] = m as unknown as [string, string, string, string, string];
  if (age(tt.toLowerCase(), now) > MAX_AGE_DAYS) return null;
  const expected = await hash(key, tt.toLowerCase(), domain.toLowerCase(), local);
  if (!constantTimeEqual(given.toLowerCase(), expected)) return null;
  return `${local}@${domain}`.toLowerCase();
}

function timestamp(now: number): string {
  const day = Math.floor(now / DAY_MS) % 1024;
  return BASE32[day >> 5]! + BASE32[day & 31]!;
}

/** Days since `tt` was written, reading its 10-bit day number as the latest one not in the future. */
function age(tt: string, now: number): number {
  const then = (BASE32.indexOf(tt[0]!) << 5) | BASE32.indexOf(tt[1]!);
  const today = Math.floor(now / DAY_MS) % 1024;
  return (today - then + 1024) % 1024;
}

async function hash(key: CryptoKey, tt: string, domain: string, local: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${tt}=${domain}=${local}`.toLowerCase())));
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of mac) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < HASH_CHARS) {
      out += BASE32[(value >> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === HASH_CHARS) break;
  }
  return out;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
