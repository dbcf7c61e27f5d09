/**
 * TLS material for every listener, read from PEM files. `reload()` re-reads the files so a
 * renewed certificate is picked up without a restart (listeners subscribe to changes).
 */
import { readFile } from "node:fs/promises";

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

export async function loadTls(paths: { certFile: string; keyFile: string }): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(paths.certFile), readFile(paths.keyFile)]);
  return { cert, key };
}
