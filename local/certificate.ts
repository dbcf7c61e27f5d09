/**
 * A self-signed certificate for local runs and tests, made once and kept in the data folder.
 * Production relays read real certificates from files (relay config `tls`).
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export async function ensureCertificate(dir: string, hostname: string): Promise<CertificateFiles> {
  const files = { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") };
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  await mkdir(dir, { recursive: true });
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 5);
  const pems = await generate([{ name: "commonName", value: hostname }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: notAfter,
    extensions: [
      { name: "basicConstraints", cA: false },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  await writeFile(files.keyFile, pems.private, { mode: 0o600 });
  await writeFile(files.certFile, pems.cert);
  return files;
}
