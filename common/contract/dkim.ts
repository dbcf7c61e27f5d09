/** DKIM keys: private keys for the relay, public keys for DNS; stored TLS results for TLS-RPT. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { TlsResultType } from "./outbound.ts";

// ---- DKIM keys ------------------------------------------------------------------------
//
//   GET /relay/v1/domains/:domain/dkim     → DkimSigningKeys (private keys: the relay signs, never stores them)
//   GET /admin/v1/domains/:domain/dkim     → DkimPublicKeys (what DNS must publish)
//   POST /admin/v1/domains/:domain/dkim/rotate  RotateDkimRequest → DkimPublicKeys
//
// Rotation adds a new RSA + ed25519 pair that signs from `now + delaySeconds`; at that moment the
// keys signing now retire. Retired keys stay published for RETIRED_KEY_PUBLISH_DAYS after they
// stop signing (mail in flight and queued mail must still verify), then leave the DNS record set.
//
// Every domain gets a 2048-bit RSA key and an ed25519 key when it is created (RFC 8463 dual
// signing); a domain without keys (created before keys existed) gets them on first read.

export const DkimAlgorithm = z.enum(["rsa-sha256", "ed25519-sha256"]);
export type DkimAlgorithm = z.infer<typeof DkimAlgorithm>;

export const DkimSigningKey = z.object({
  selector: z.string().min(1).max(63),
  algorithm: DkimAlgorithm,
  /** PKCS#8 PEM. */
  privateKeyPem: z.string(),
});
export type DkimSigningKey = z.infer<typeof DkimSigningKey>;
export const DkimSigningKeys = z.object({ domain: z.string(), keys: z.array(DkimSigningKey) });
export type DkimSigningKeys = z.infer<typeof DkimSigningKeys>;

export const RETIRED_KEY_PUBLISH_DAYS = 7;
export const RotateDkimRequest = z.object({
  /** Publish first, sign later: time for the new TXT records to reach DNS caches. */
  delaySeconds: z.number().int().min(0).max(30 * 86400).default(0),
});
export type RotateDkimRequest = z.input<typeof RotateDkimRequest>;

export const DkimKeyStatus = z.enum(["pending", "active", "retired"]);
export const DkimPublicKey = z.object({
  selector: z.string(),
  algorithm: DkimAlgorithm,
  status: DkimKeyStatus,
  activeFrom: z.number().int(),
  retiredAt: z.number().int().nullable(),
  /** `<selector>._domainkey.<domain>` */
  dnsName: z.string(),
  /** The TXT record value, e.g. `v=DKIM1; k=rsa; p=MIIB…` (unsplit; DNS tooling splits it into 255-byte strings). */
  dnsValue: z.string(),
  createdAt: z.number().int(),
});
export type DkimPublicKey = z.infer<typeof DkimPublicKey>;
export const DkimPublicKeys = z.object({ domain: z.string(), keys: z.array(DkimPublicKey) });
export type DkimPublicKeys = z.infer<typeof DkimPublicKeys>;

/** Admin: `GET /admin/v1/tls-results?domain=` — stored TLS session results (TLS-RPT input), newest first. */
export const StoredTlsResult = z.object({
  policyType: z.enum(["sts", "tlsa", "no-policy-found"]),
  policyDomain: z.string(),
  policyStrings: z.array(z.string()),
  mxHost: z.string(),
  receivingIp: z.string().nullable(),
  result: TlsResultType,
  detail: z.string().nullable(),
  jobId: z.string(),
  at: z.number().int(),
});
export type StoredTlsResult = z.infer<typeof StoredTlsResult>;
export const TlsResultList = z.object({ results: z.array(StoredTlsResult) });
export type TlsResultList = z.infer<typeof TlsResultList>;
