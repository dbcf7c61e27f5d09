/**
 * A throwaway certificate authority for tests, generated in-process (EC P-256, a few ms each).
 *
 * Callers may rely on:
 * - `createTestCa()` gives a CA whose `cert` PEM can be handed to a TLS client as its only trust
 *   root (`tls: { ca: [ca.cert] }`); it is valid from a day ago for ten years.
 * - `ca.issue(names)` gives a server leaf signed by that CA: every name goes into the
 *   subjectAltName (dNSName, or iPAddress for an IP literal), the first one is also the CN;
 *   serverAuth EKU; valid from a day ago for a year, or, with `{ expired: true }`, a validity
 *   window that ended yesterday.
 * - `ca.selfSigned(names)` (also exported alone as `selfSigned`) gives a leaf for the same names
 *   signed by its own fresh key, so no CA verifies it.
 * - Keys are PKCS#8 PEM, certificates PEM, both accepted by node:tls as `key` and `cert`.
 */
import { KeyObject, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

export interface KeyAndCert {
  key: string;
  cert: string;
}

export interface IssueOptions {
  /** notBefore two days ago, notAfter yesterday. */
  expired?: boolean;
}

export interface TestCa extends KeyAndCert {
  issue(names: string[], opts?: IssueOptions): Promise<KeyAndCert>;
  selfSigned(names: string[]): Promise<KeyAndCert>;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
}

function keyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

// A positive serial: the top bit of the first byte must be clear or DER reads it as negative.
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

// CN is limited to 64 characters by X.520; SAN is what verification actually uses.
function cnOf(names: string[]): string {
  const first = names[0] ?? "test";
  return `CN=${first.slice(0, 64).replace(/([,+"\\<>;=])/g, "\\$1")}`;
}

function sanOf(names: string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(
    names.map((value) => (isIP(value) ? { type: "ip" as const, value } : { type: "dns" as const, value })),
  );
}

function validity(opts: IssueOptions | undefined): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return opts?.expired
    ? { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now - DAY) }
    : { notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) };
}

async function leafExtensions(names: string[], publicKey: webcrypto.CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    sanOf(names),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

/** A leaf for `names` signed by its own key. */
export async function selfSigned(names: string[]): Promise<KeyAndCert> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: cnOf(names),
    ...validity(undefined),
    keys,
    signingAlgorithm: ALG,
    extensions: await leafExtensions(names, keys.publicKey),
  });
  return { key: keyPem(keys.privateKey), cert: cert.toString("pem") };
}

export async function createTestCa(commonName = "edgemail test CA"): Promise<TestCa> {
  const caKeys = await newKeys();
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    key: keyPem(caKeys.privateKey),
    cert: caCert.toString("pem"),
    selfSigned,
    async issue(names, opts) {
      if (names.length === 0) throw new Error("issue() needs at least one name");
      const keys = await newKeys();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: cnOf(names),
        issuer: caCert.subject,
        ...validity(opts),
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          ...(await leafExtensions(names, keys.publicKey)),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { key: keyPem(keys.privateKey), cert: cert.toString("pem") };
    },
  };
}
