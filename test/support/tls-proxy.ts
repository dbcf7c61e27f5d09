/**
 * A TLS front for tests: terminates TLS on a loopback address and pipes the plain bytes to a
 * local TCP service (the real edge in workerd), as a Workers custom domain fronts the Worker; so
 * `https://mta-sts.<domain>/…` reaches the edge's own route with its Host header intact.
 *
 * Callers may rely on:
 * - `startTlsProxy({ ip, target, certificates })` listens on ip:<free port> (`port`); the
 *   handshake for an SNI equal to a key of `certificates` (case-insensitive) presents that
 *   certificate, any other SNI (or none) the first one.
 * - `setCertificate(name, material)` replaces or adds one at once, for later handshakes.
 * - `stop()` closes the listener and every open connection.
 */
import { connect, type Socket } from "node:net";
import { createSecureContext, createServer, type SecureContext } from "node:tls";
import type { KeyAndCert } from "./test-ca.ts";

export interface TlsProxy {
  port: number;
  setCertificate(name: string, material: KeyAndCert): void;
  stop(): Promise<void>;
}

export async function startTlsProxy(opts: {
  ip: string;
  target: { host: string; port: number };
  certificates: Record<string, KeyAndCert>;
}): Promise<TlsProxy> {
  const contexts = new Map<string, SecureContext>();
  for (const [name, material] of Object.entries(opts.certificates)) contexts.set(name.toLowerCase(), createSecureContext(material));
  const first = Object.values(opts.certificates)[0];
  if (!first) throw new Error("startTlsProxy needs at least one certificate");
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };

  const server = createServer(
    {
      key: first.key,
      cert: first.cert,
      SNICallback: (servername, cb) => cb(null, contexts.get(servername.toLowerCase()) ?? contexts.values().next().value),
    },
    (client) => {
      const upstream = connect(opts.target.port, opts.target.host);
      track(upstream);
      client.pipe(upstream).pipe(client);
      // Either side failing ends both: a test never waits on a half-open pipe.
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    },
  );
  server.on("connection", track);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, opts.ip, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    setCertificate(name, material) {
      contexts.set(name.toLowerCase(), createSecureContext(material));
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
