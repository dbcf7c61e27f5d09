/**
 * An MTA-STS policy host for tests: one HTTPS server that plays `mta-sts.<domain>` for every
 * domain, telling them apart by SNI (for the certificate) and Host (for the policy).
 *
 * Callers may rely on:
 * - `startPolicyServer({ ip, port?, ca })` listens on ip:port (port 0 or omitted: a free one,
 *   returned as `port`).
 * - `setPolicy(domain, policy, certKind = "trusted")`: GET /.well-known/mta-sts.txt with Host
 *   `mta-sts.<domain>` (any port suffix) answers 200 text/plain with the text; null answers 404
 *   (over a good certificate); an object gives full control of status, body and headers
 *   (redirects, 5xx, a wrong content type). Resolves once the certificate exists. A domain never
 *   set answers 404 with the fallback certificate below (a name mismatch). The handshake for SNI
 *   `mta-sts.<domain>` presents, per certKind:
 *   "trusted" a leaf from the test CA for that name; "self-signed"; "expired" (from the CA);
 *   "wrong-name" (from the CA, for another name). Any other SNI, or none, gets a CA leaf for
 *   `mta-sts.invalid`.
 * - `fetches(domain)` counts requests whose Host named that domain's policy host, whatever
 *   the path or answer.
 * - `stop()` closes the listener and every open connection.
 */
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import type { KeyAndCert, TestCa } from "./test-ca.ts";

export type PolicyCertKind = "trusted" | "self-signed" | "expired" | "wrong-name";

export type PolicyResponse =
  | string
  | null
  | { status: number; body?: string; headers?: Record<string, string> };

export interface PolicyServer {
  port: number;
  setPolicy(domain: string, policy: PolicyResponse, certKind?: PolicyCertKind): Promise<void>;
  fetches(domain: string): number;
  stop(): Promise<void>;
}

const POLICY_PATH = "/.well-known/mta-sts.txt";
const FALLBACK_NAME = "mta-sts.invalid";

export async function startPolicyServer(opts: { ip: string; port?: number; ca: TestCa }): Promise<PolicyServer> {
  const { ca } = opts;
  const policies = new Map<string, { policy: PolicyResponse; certKind: PolicyCertKind }>();
  const counts = new Map<string, number>();
  // Certificates are made when a policy is set, because SNICallback should answer without
  // waiting on key generation in the middle of a handshake.
  const contexts = new Map<string, SecureContext>();
  const sockets = new Set<Socket>();

  const contextKey = (name: string, kind: PolicyCertKind) => `${kind} ${name}`;
  async function ensureContext(name: string, kind: PolicyCertKind): Promise<void> {
    const id = contextKey(name, kind);
    if (contexts.has(id)) return;
    let material: KeyAndCert;
    if (kind === "trusted") material = await ca.issue([name]);
    else if (kind === "self-signed") material = await ca.selfSigned([name]);
    else if (kind === "expired") material = await ca.issue([name], { expired: true });
    else material = await ca.issue([`wrong-name.${name}.invalid`]);
    contexts.set(id, createSecureContext(material));
  }

  const fallback = await ca.issue([FALLBACK_NAME]);
  await ensureContext(FALLBACK_NAME, "trusted");

  const domainOfHost = (host: string | undefined): string | undefined => {
    const name = (host ?? "").toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
    return name.startsWith("mta-sts.") ? name.slice("mta-sts.".length) : undefined;
  };

  const server: Server = createServer(
    {
      key: fallback.key,
      cert: fallback.cert,
      SNICallback(servername, cb) {
        const name = servername.toLowerCase();
        const domain = domainOfHost(name);
        const kind = (domain && policies.get(domain)?.certKind) || "trusted";
        cb(null, contexts.get(contextKey(name, kind)) ?? contexts.get(contextKey(FALLBACK_NAME, "trusted")));
      },
    },
    (req, res) => {
      const domain = domainOfHost(req.headers.host);
      if (domain) counts.set(domain, (counts.get(domain) ?? 0) + 1);
      const path = (req.url ?? "").split("?")[0];
      const entry = domain ? policies.get(domain) : undefined;
      const policy = req.method === "GET" && path === POLICY_PATH ? (entry?.policy ?? null) : null;
      if (policy === null) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      } else if (typeof policy === "string") {
        res.writeHead(200, { "content-type": "text/plain" }).end(policy);
      } else {
        res.writeHead(policy.status, { "content-type": "text/plain", ...policy.headers }).end(policy.body ?? "");
      }
    },
  );
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.ip, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    async setPolicy(domain, policy, certKind = "trusted") {
      const d = domain.toLowerCase().replace(/\.$/, "");
      await ensureContext(`mta-sts.${d}`, certKind);
      policies.set(d, { policy, certKind });
    },
    fetches: (domain) => counts.get(domain.toLowerCase().replace(/\.$/, "")) ?? 0,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
