/**
 * Builds the outbound delivery pipeline from the relay's config and starts leasing.
 * The trust store is Node's roots plus `extraCaFiles` (read once at start).
 */
import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import type { RelayConfig } from "../config.ts";
import type { EdgeClient } from "../edge/client.ts";
import { SmtpConnectionCache } from "./connection-cache.ts";
import { DkimSigner } from "./dkim-signer.ts";
import { createDeliveryDns } from "./dns.ts";
import { MtaStsPolicies } from "./mta-sts.ts";
import { OutboundWorker } from "./outbound-worker.ts";

export async function startDelivery(config: RelayConfig, edge: EdgeClient, log: (line: string) => void): Promise<OutboundWorker> {
  const settings = config.delivery;
  const extra = await Promise.all(settings.extraCaFiles.map((file) => readFile(file, "utf8")));
  const ca = [...rootCertificates, ...extra];
  const dns = createDeliveryDns(config.dnsServers);
  const worker = new OutboundWorker(
    {
      edge,
      dns,
      signer: new DkimSigner(edge, settings.keyCacheMs, log),
      mtaSts: new MtaStsPolicies(dns, { port: settings.mtaStsPort, ca }),
      connections: new SmtpConnectionCache(),
      heloName: config.hostname,
      smtpPort: settings.smtpPort,
      ca,
      dane: settings.dane,
      connectTimeoutMs: settings.connectTimeoutMs,
      commandTimeoutMs: settings.commandTimeoutMs,
      log,
    },
    {
      relayId: settings.relayId ?? config.hostname,
      concurrency: settings.concurrency,
      leaseSeconds: settings.leaseSeconds,
      pollIntervalMs: settings.pollIntervalMs,
    },
  );
  worker.start();
  return worker;
}
