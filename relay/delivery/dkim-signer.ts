/**
 * DKIM signing of outbound mail (RFC 6376, RFC 8463 dual signing): one signature per key the
 * edge holds for the sender's domain (RSA and ed25519), relaxed/relaxed, over the RFC 6376
 * §5.4.1 recommended header set, with From oversigned so no second From can be added later.
 *
 * mailauth does the canonicalization, the body hash and the header formatting; it only lacks
 * oversigning (its h= lists exactly the fields present), so this file assembles the h= list
 * itself and hands it to mailauth's header canonicalizer, as mailauth's own signer does.
 *
 * Callers may rely on: keys come from the edge and live in memory for `keyCacheMs` only, never
 * on disk; a domain without keys (or an edge that cannot be asked) yields no signature rather
 * than a failed delivery, and the reason is logged.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import type { DkimSigningKey } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";

interface ParsedHeader {
  key: string;
  casedKey: string;
  line: Buffer;
}
interface SigningHeaderLines {
  keys: string;
  headers: ParsedHeader[];
}
interface BodyHasher {
  update(chunk: Buffer): void;
  digest(encoding: "base64"): string;
}

const require = createRequire(import.meta.url);
const tools = require("mailauth/lib/tools.js") as {
  parseHeaders(buf: Buffer): { parsed: ParsedHeader[] };
  getSigningHeaderLines(parsed: ParsedHeader[], fieldNames: string, verify: boolean): SigningHeaderLines;
  formatSignatureHeaderLine(type: "DKIM", values: Record<string, unknown>, folded: boolean): string;
};
const { generateCanonicalizedHeader } = require("mailauth/lib/dkim/header/index.js") as {
  generateCanonicalizedHeader(
    type: "DKIM",
    lines: SigningHeaderLines,
    options: Record<string, unknown>,
  ): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
};
const { RelaxedHash } = require("mailauth/lib/dkim/body/relaxed.js") as {
  RelaxedHash: new (hashAlgo: string, maxBodyLength: string) => BodyHasher;
};

/** RFC 6376 §5.4.1's list; the fields present are signed, From once more than present. */
const SIGNED_FIELDS = [
  "From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
  "In-Reply-To", "References", "List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe", "List-Post",
  "List-Owner", "List-Archive", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
  "Sender",
].join(":");
const OVERSIGNED = ["From"];

interface CachedKeys {
  keys: { selector: string; algorithm: DkimSigningKey["algorithm"]; key: KeyObject }[];
  expires: number;
}

export class DkimSigner {
  readonly #edge: EdgeClient;
  readonly #cacheMs: number;
  readonly #log: (line: string) => void;
  readonly #cache = new Map<string, Promise<CachedKeys>>();

  constructor(edge: EdgeClient, cacheMs: number, log: (line: string) => void) {
    this.#edge = edge;
    this.#cacheMs = cacheMs;
    this.#log = log;
  }

  /**
   * The DKIM-Signature fields to prepend to `raw` (CRLF-terminated, possibly empty), signed
   * for `domain` — the domain of the header From, so the signature aligns for DMARC.
   */
  async sign(raw: Buffer, domain: string, now = Date.now()): Promise<string> {
    const keys = await this.#keysFor(domain.toLowerCase(), now);
    if (keys.length === 0) return "";
    const split = headerEnd(raw);
    const { parsed } = tools.parseHeaders(raw.subarray(0, split));
    const present = tools.getSigningHeaderLines(parsed, SIGNED_FIELDS, false);
    if (!present.headers.some((h) => h.key === "from")) return "";
    const lines: SigningHeaderLines = { keys: [present.keys, ...OVERSIGNED].join(": "), headers: present.headers };

    const hasher = new RelaxedHash("sha256", "");
    hasher.update(raw.subarray(split));
    const bodyHash = hasher.digest("base64");
    const timestamp = Math.floor(now / 1000);

    let fields = "";
    for (const { selector, algorithm, key } of keys) {
      const { canonicalizedHeader, dkimHeaderOpts } = generateCanonicalizedHeader("DKIM", lines, {
        signingDomain: domain,
        selector,
        algorithm,
        canonicalization: "relaxed/relaxed",
        bodyHash,
        timestamp,
        expiration: false,
      });
      // RFC 8463 §3: ed25519 signs the SHA-256 of the canonicalized header, RSA the data itself.
      const signature =
        algorithm === "rsa-sha256"
          ? sign("sha256", canonicalizedHeader, key)
          : sign(null, createHash("sha256").update(canonicalizedHeader).digest(), key);
      dkimHeaderOpts.b = signature.toString("base64");
      fields += tools.formatSignatureHeaderLine("DKIM", dkimHeaderOpts, true) + "\r\n";
    }
    return fields;
  }

  #keysFor(domain: string, now: number): Promise<CachedKeys["keys"]> {
    const cached = this.#cache.get(domain);
    if (cached) {
      return cached.then((entry) => {
        if (entry.expires > now) return entry.keys;
        this.#cache.delete(domain);
        return this.#keysFor(domain, now);
      });
    }
    const loading = this.#edge.dkimSigningKeys(domain).then(
      (result) => ({
        keys: result.keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, key: createPrivateKey(k.privateKeyPem) })),
        expires: now + this.#cacheMs,
      }),
      (err: unknown) => {
        // Unsigned mail still goes out (as Postfix without a key table entry would send it);
        // a short negative cache keeps a flapping edge from being asked per message.
        this.#log(`dkim: no keys for ${domain}: ${(err as Error).message}`);
        return { keys: [], expires: now + 30_000 };
      },
    );
    this.#cache.set(domain, loading);
    return loading.then((entry) => entry.keys);
  }
}

/** Offset of the body: after the first empty line (the whole message when there is none). */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf("\r\n\r\n");
  if (crlf >= 0) return crlf + 4;
  const lf = raw.indexOf("\n\n");
  return lf >= 0 ? lf + 2 : raw.length;
}
