/**
 * The IMAP listeners: 993 with implicit TLS (RFC 8314) and 143 with STARTTLS. Each accepted
 * socket becomes one ImapConnection.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, type SecureContext } from "node:tls";
import type { TlsMaterial } from "../tls.ts";
import { ImapConnection } from "./connection.ts";
import type { ConnectionLimiter } from "./connection-limits.ts";
import { untagged } from "./protocol/writer.ts";
import type { ImapLimits } from "./limits.ts";
import type { MailStore } from "./mail-store.ts";
import type { ChangeFeed } from "./change-feed.ts";

export interface ImapServerOptions {
  store: MailStore;
  tls: () => TlsMaterial;
  limits: ImapLimits;
  implicitTls: boolean;
  changes: ChangeFeed;
  /** Shared by every listener of the relay. */
  limiter: ConnectionLimiter;
  log?: (line: string) => void;
}

export interface ImapServer {
  server: Server;
  connections: Set<ImapConnection>;
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  const connections = new Set<ImapConnection>();
  const secureContext = (): SecureContext => createSecureContext(options.tls());
  const onSocket = (socket: Socket) => {
    const ip = socket.remoteAddress ?? "";
    if (!options.limiter.openFromIp(ip)) {
      socket.on("error", () => {});
      socket.end(untagged("BYE [UNAVAILABLE] Too many connections from your address"));
      return;
    }
    socket.once("close", () => options.limiter.closeFromIp(ip));
    const conn = new ImapConnection(socket, {
      store: options.store,
      limits: options.limits,
      secureContext,
      implicitTls: options.implicitTls,
      changes: options.changes,
      limiter: options.limiter,
      ...(options.log ? { log: options.log } : {}),
    });
    connections.add(conn);
    socket.on("close", () => connections.delete(conn));
    conn.start();
  };
  const server = options.implicitTls
    ? createTlsServer({ ...options.tls() }, onSocket)
    : createServer(onSocket);
  // A client that vanishes mid-handshake must not take the process down.
  server.on("tlsClientError", () => {});
  return { server, connections };
}
