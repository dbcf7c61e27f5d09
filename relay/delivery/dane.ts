/**
 * DANE for SMTP (RFC 7672): does the certificate chain an MX presented match its
 * DNSSEC-validated TLSA records (`_25._tcp.<mx host>`)?
 *
 * Callers may rely on: only DANE-TA(2) and DANE-EE(3) records count (RFC 7672 §3.1.3: PKIX
 * usages are unusable for SMTP); DANE-EE ignores names and expiry (§3.1.1); DANE-TA needs the
 * trust anchor in the presented chain, each link signed by the next, and the leaf to name the
 * MX host (§3.2.2). `usable` false means TLS is still mandatory but nothing can be
 * authenticated (§2.2).
 */
import { createHash, X509Certificate } from "node:crypto";
import { checkServerIdentity, type DetailedPeerCertificate } from "node:tls";
import type { TlsaRecord } from "./dns.ts";

export function usableTlsa(records: TlsaRecord[]): TlsaRecord[] {
  return records.filter((r) => (r.usage === 2 || r.usage === 3) && r.selector <= 1 && r.matchingType <= 2);
}

/** Formats records as TLS-RPT's policy-string for a tlsa policy (RFC 8460 §4.4). */
export function tlsaPolicyStrings(records: TlsaRecord[]): string[] {
  return records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString("hex")}`);
}

export function daneMatches(records: TlsaRecord[], peer: DetailedPeerCertificate, mxHost: string): boolean {
  const chain = presentedChain(peer);
  if (chain.length === 0) return false;
  const [leaf] = chain;
  for (const record of usableTlsa(records)) {
    if (record.usage === 3 && matches(record, leaf!)) return true;
    if (record.usage === 2) {
      const anchorAt = chain.findIndex((cert) => matches(record, cert));
      if (anchorAt < 0 || !linked(chain.slice(0, anchorAt + 1))) continue;
      if (checkServerIdentity(mxHost, peer) === undefined) return true;
    }
  }
  return false;
}

function presentedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current: DetailedPeerCertificate | undefined = peer;
  const seen = new Set<string>();
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

function linked(chain: X509Certificate[]): boolean {
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) return false;
  }
  return true;
}

function matches(record: TlsaRecord, cert: X509Certificate): boolean {
  const selected = record.selector === 0 ? cert.raw : cert.publicKey.export({ type: "spki", format: "der" });
  const digest =
    record.matchingType === 0
      ? selected
      : createHash(record.matchingType === 1 ? "sha256" : "sha512").update(selected).digest();
  return digest.equals(record.data);
}
