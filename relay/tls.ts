/**
 * TLS material for every listener, read from PEM files once at start. A renewed certificate
 * needs a relay restart today: DESIGN.md §5 asks for a reload without one (smtp-server's
 * updateSecureContext, tls.Server's setSecureContext), which is not built yet.
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
