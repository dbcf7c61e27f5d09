/**
 * Password storage: PBKDF2-SHA256 through WebCrypto, 100 000 iterations (the most production
 * workerd is reported to accept, ≈13 ms: DESIGN.md §3), a random 16-byte salt, stored as
 * `pbkdf2-sha256$100000$<base64 salt>$<base64 hash>`.
 *
 * Callers may rely on: `verifyPassword` takes the same time whether or not an account exists
 * (pass `null` as the stored hash and it still runs one derivation) and compares in constant
 * time; a malformed stored hash simply fails verification.
 */

const ALGORITHM = "pbkdf2-sha256";
const ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Stands in for the missing account's hash so unknown users cost one full derivation too. */
const DUMMY_HASH = `${ALGORITHM}$${ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, ITERATIONS);
  return `${ALGORITHM}$${ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = parse(stored ?? DUMMY_HASH) ?? parse(DUMMY_HASH)!;
  const actual = await derive(password, parsed.salt, parsed.iterations);
  const same = actual.byteLength === parsed.hash.byteLength && crypto.subtle.timingSafeEqual(actual, parsed.hash);
  return stored !== null && same;
}

function parse(stored: string): { iterations: number; salt: Uint8Array; hash: Uint8Array } | null {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== ALGORITHM) return null;
  const iterations = Number(parts[1]);
  // Only our own iteration count: a stored value must never make the edge burn unbounded CPU.
  if (iterations !== ITERATIONS) return null;
  try {
    return { iterations, salt: fromBase64(parts[2]!), hash: fromBase64(parts[3]!) };
  } catch {
    return null;
  }
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BYTES * 8);
  return new Uint8Array(bits);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
}
