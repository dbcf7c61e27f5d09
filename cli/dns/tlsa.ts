/**
 * DANE TLSA records for the relay's port 25 (RFC 7671, RFC 7672): usage 3 (DANE-EE), selector 1
 * (SubjectPublicKeyInfo), matching type 1 (SHA-256) — the form that survives certificate renewals
 * as long as the key is kept, and the one RFC 7672 §3.1.1 recommends for SMTP.
 *
 * Callers may rely on: `tlsaData` hashes the DER SubjectPublicKeyInfo of the first certificate in
 * a PEM bundle (the leaf) and gives lower-case hex; `certificateFrom` fetches the leaf a live
 * server presents — SMTP STARTTLS first for ports 25 and 587, implicit TLS first otherwise, then
 * the other — without trusting or judging it (a DANE-EE record needs no CA); `tlsaRecords` names
 * them `_25._tcp.<mxHost>`.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { DnsRecord } from "../../common/contract.ts";
import { probeTls, type TlsMode } from "../doctor/tls.ts";

type Tlsa = Extract<DnsRecord, { type: "TLSA" }>;

export function tlsaData(certificate: X509Certificate | string | Buffer): string {
  const cert = certificate instanceof X509Certificate ? certificate : new X509Certificate(firstPem(certificate));
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

function firstPem(input: string | Buffer): string | Buffer {
  const text = input.toString();
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  return pem ? pem[0] : input;
}

/** `host:port` (or `[v6]:port`) → the leaf certificate the server presents there. */
export async function certificateFrom(target: string, timeoutMs: number): Promise<X509Certificate> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (!m) throw new Error(`"${target}" is not host:port`);
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  // The usual mode for the port first, then the other: a relay's ports may be moved.
  const modes: TlsMode[] = port === 25 || port === 587 ? ["starttls", "implicit"] : ["implicit", "starttls"];
  let first: string | undefined;
  for (const mode of modes) {
    const probe = await probeTls({ host, address: host, port, mode, timeoutMs });
    if (probe.ok) return probe.leaf;
    first ??= `${probe.stage} failed: ${probe.error}`;
  }
  throw new Error(`${target}: ${first}`);
}

export function tlsaRecords(mxHosts: string[], data: string[], ttl: number): Tlsa[] {
  return mxHosts.flatMap((host) =>
    [...new Set(data)].map((d) => ({
      type: "TLSA" as const,
      name: `_25._tcp.${host.replace(/\.$/, "")}`,
      ttl,
      purpose: `DANE TLSA for ${host.replace(/\.$/, "")} port 25 (DANE-EE, SPKI, SHA-256)`,
      required: false,
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: d,
    })),
  );
}
