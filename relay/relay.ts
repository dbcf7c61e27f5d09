/**
 * startRelay: starts every listener the config names and returns their bound ports and a
 * stop() that closes them. The relay holds no state that must survive it: stopping or
 * replacing it loses nothing.
 */
import type { Server } from "node:net";
import type { SMTPServer } from "smtp-server";
import type { RelayConfig } from "./config.ts";
import { EdgeClient } from "./edge/client.ts";
import { createImapServer, type ImapServer } from "./imap/server.ts";
import { ChangeFeed } from "./imap/change-feed.ts";
import { ConnectionLimiter } from "./imap/connection-limits.ts";
import { createMxServer } from "./smtp/mx.ts";
import { createDnsbl } from "./smtp/dnsbl.ts";
import { createSubmissionServer, SubmissionGuards } from "./smtp/submission.ts";
import { loadTls, type TlsMaterial } from "./tls.ts";
import { startDelivery } from "./delivery/start.ts";
import { createDeliveryDns } from "./delivery/dns.ts";
import type { OutboundWorker } from "./delivery/outbound-worker.ts";

export interface RunningRelay {
  ports: { mx: number | null; imaps: number | null; imap: number | null; submissions: number | null; submission: number | null };
  edge: EdgeClient;
  /** null when delivery is switched off in the config. */
  delivery: OutboundWorker | null;
  stop(): Promise<void>;
}

export async function startRelay(config: RelayConfig, log: (line: string) => void = () => {}): Promise<RunningRelay> {
  const edge = new EdgeClient({ url: config.edge.url, relayKey: config.edge.relayKey, timeoutMs: config.edge.timeoutMs });
  // IMAP reads it per handshake through a getter, so a reload (relay/tls.ts) would need no restart there.
  const tls: TlsMaterial = await loadTls(config.tls);
  const host = config.listen.host;
  const closers: (() => Promise<void>)[] = [];
  const ports: RunningRelay["ports"] = { mx: null, imaps: null, imap: null, submissions: null, submission: null };
  const changes = new ChangeFeed();
  const limiter = new ConnectionLimiter(config.imapLimits);
  const delivery = config.delivery.enabled ? await startDelivery(config, edge, log) : null;
  if (delivery) closers.push(() => delivery.stop());

  try {
    if (config.listen.mx !== null) {
      // SPF/DKIM/DMARC/ARC/iprev lookups of incoming mail go to the configured resolvers too.
      const resolver = createDeliveryDns(config.dnsServers).mailauthResolver;
      const dnsbl = config.dnsbl.zones.length > 0 ? createDnsbl({ ...config.dnsbl, servers: config.dnsServers, log }) : null;
      const mx = createMxServer({ edge, hostname: config.hostname, tls, limits: config.smtpLimits, mxLimits: config.mxLimits, dnsbl, changes, resolver, log });
      ports.mx = await listen(mx.server, config.listen.mx, host);
      closers.push(() => closeSmtp(mx));
    }
    const guards = new SubmissionGuards(config.smtpLimits);
    for (const kind of ["submissions", "submission"] as const) {
      const port = config.listen[kind];
      if (port === null) continue;
      const server = createSubmissionServer({
        edge,
        hostname: config.hostname,
        tls,
        limits: config.smtpLimits,
        implicitTls: kind === "submissions",
        guards,
        changes,
        onQueued: () => delivery?.kick(),
        log,
      });
      ports[kind] = await listen(server.server, port, host);
      closers.push(() => closeSmtp(server));
    }
    for (const kind of ["imaps", "imap"] as const) {
      const port = config.listen[kind];
      if (port === null) continue;
      const imap = createImapServer({
        store: edge,
        tls: () => tls,
        limits: config.imapLimits,
        implicitTls: kind === "imaps",
        changes,
        limiter,
        log,
      });
      ports[kind] = await listen(imap.server, port, host);
      closers.push(() => closeImap(imap));
    }
  } catch (err) {
    await Promise.all(closers.map((c) => c()));
    throw err;
  }

  return {
    ports,
    edge,
    delivery,
    async stop() {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

function closeSmtp(smtp: SMTPServer): Promise<void> {
  return new Promise((resolve) => smtp.close(() => resolve()));
}

function closeImap(imap: ImapServer): Promise<void> {
  for (const conn of imap.connections) conn.close();
  return new Promise((resolve) => imap.server.close(() => resolve()));
}
