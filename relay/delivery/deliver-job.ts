/**
 * Delivers one leased outbound job (one destination domain, its pending recipients) and
 * returns the report for the edge: per-recipient outcomes plus every TLS session result.
 *
 * Order of decisions, as Postfix with DANE and an MTA-STS resolver makes them: route (null
 * MX fails at once); per MX host, DNSSEC-validated TLSA records win (RFC 8461 §2: DANE takes
 * precedence), else the domain's MTA-STS policy (enforce: only matching MX names, validated
 * certificates, never plaintext), else opportunistic STARTTLS. Hosts are tried in order until
 * one answers the envelope; if none does, every recipient is deferred with the last reason.
 *
 * Callers may rely on: the edge decides retries and bounces from the report; this function
 * never throws for anything the network or DNS did (those are outcomes), only when the
 * message itself cannot be read (the lease is gone, or the edge is unreachable).
 */
import type { DeliveryReport, OutboundJob, RecipientOutcome, TlsSessionResult } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { headerFromAddresses } from "../smtp/outbound-submission.ts";
import type { DkimSigner } from "./dkim-signer.ts";
import type { SmtpConnectionCache } from "./connection-cache.ts";
import { DnsTemporaryError, type DeliveryDns } from "./dns.ts";
import { MtaStsPolicies, type StsLookup } from "./mta-sts.ts";
import { resolveMxRoute } from "./mx-route.ts";
import { transferToHost, type TlsRequirement } from "./smtp-transfer.ts";

export interface DeliveryContext {
  edge: EdgeClient;
  dns: DeliveryDns;
  signer: DkimSigner;
  mtaSts: MtaStsPolicies;
  connections?: SmtpConnectionCache;
  heloName: string;
  smtpPort: number;
  ca: string[];
  dane: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  log: (line: string) => void;
}

/**
 * `deadline` (ms, this host's clock) is when the lease runs out less the time one more host
 * attempt may take: past it no new host is tried, so no other relay can lease the job while
 * this one is still talking to an MX about it.
 */
export async function deliverJob(job: OutboundJob, ctx: DeliveryContext, deadline = Infinity): Promise<DeliveryReport> {
  const stored = await ctx.edge.readOutboundMessage(job.id, job.leaseToken);
  const signature = await ctx.signer.sign(stored, signingDomain(stored, job.mailFrom));
  const message = signature ? Buffer.concat([Buffer.from(signature, "latin1"), stored]) : stored;
  const tls: TlsSessionResult[] = [];
  const all = (outcome: Omit<RecipientOutcome, "recipient">): DeliveryReport => ({
    leaseToken: job.leaseToken,
    results: job.recipients.map((recipient) => ({ recipient, ...outcome })),
    tls,
  });

  let route;
  try {
    route = await resolveMxRoute(ctx.dns, job.domain);
  } catch (err) {
    return all({ outcome: "deferred", smtp: { code: 451, enhanced: "4.4.3", message: dnsMessage(err) } });
  }
  if (route.kind === "null-mx") {
    return all({ outcome: "failed", smtp: { code: 556, enhanced: "5.1.10", message: `${job.domain} does not accept mail (null MX)` } });
  }
  if (route.kind === "no-host") {
    return all({ outcome: "failed", smtp: { code: 550, enhanced: "5.1.2", message: `${job.domain} has no MX or address records` } });
  }

  const sts = await ctx.mtaSts.lookup(job.domain);
  if (sts.kind === "none" && sts.failure) tls.push(stsFetchFailure(job.domain, sts.failure));

  let lastError = "no MX host could be reached";
  for (const mxHost of route.hosts) {
    let requirement: TlsRequirement | "refused";
    let addresses: string[];
    try {
      requirement = await requirementFor(mxHost, job.domain, sts, ctx);
      addresses = await ctx.dns.addresses(mxHost);
    } catch (err) {
      lastError = dnsMessage(err);
      continue;
    }
    if (requirement === "refused") {
      lastError = `MTA-STS policy of ${job.domain} does not list MX ${mxHost}`;
      tls.push(stsMismatch(job.domain, sts, mxHost));
      continue;
    }
    if (addresses.length === 0) {
      lastError = `MX ${mxHost} has no address`;
      continue;
    }
    for (const ip of addresses) {
      if (Date.now() > deadline) {
        lastError = "the lease ran out before another MX could be tried";
        break;
      }
      const attempt = await transferToHost({
        ip,
        mxHost,
        port: ctx.smtpPort,
        heloName: ctx.heloName,
        requirement,
        ca: ctx.ca,
        connectTimeoutMs: ctx.connectTimeoutMs,
        commandTimeoutMs: ctx.commandTimeoutMs,
        mailFrom: job.mailFrom,
        recipients: job.recipients,
        message,
      }, ctx.connections);
      if (attempt.tls) tls.push(attempt.tls);
      if (attempt.outcomes) return { leaseToken: job.leaseToken, results: attempt.outcomes, tls };
      lastError = attempt.error ?? lastError;
      ctx.log(`delivery: job ${job.id}: ${lastError}`);
    }
  }
  const policyFailure = tls.length > 0 && tls[tls.length - 1]!.result !== "success";
  return all({
    outcome: "deferred",
    smtp: policyFailure
      ? { code: 451, enhanced: "4.7.5", message: lastError.slice(0, 1000) }
      : { code: 451, enhanced: "4.4.1", message: lastError.slice(0, 1000) },
  });
}

async function requirementFor(
  mxHost: string,
  domain: string,
  sts: StsLookup,
  ctx: DeliveryContext,
): Promise<TlsRequirement | "refused"> {
  if (ctx.dane) {
    const tlsa = await ctx.dns.tlsa(`_25._tcp.${mxHost}`);
    if (tlsa.status === "bogus") throw new DnsTemporaryError(tlsa.detail);
    if (tlsa.status === "secure" && tlsa.records.length > 0) return { kind: "dane", policyDomain: domain, records: tlsa.records };
  }
  if (sts.kind === "policy" && sts.policy.mode !== "none") {
    const enforce = sts.policy.mode === "enforce";
    if (enforce && !MtaStsPolicies.allows(sts.policy, mxHost)) return "refused";
    return { kind: "sts", policyDomain: domain, enforce, policyStrings: sts.policy.lines };
  }
  return { kind: "opportunistic", policyDomain: domain };
}

function stsFetchFailure(domain: string, failure: { result: TlsSessionResult["result"]; detail: string }): TlsSessionResult {
  return { policyType: "sts", policyDomain: domain, policyStrings: [], mxHost: `mta-sts.${domain}`, result: failure.result, detail: failure.detail };
}

function stsMismatch(domain: string, sts: StsLookup, mxHost: string): TlsSessionResult {
  return {
    policyType: "sts",
    policyDomain: domain,
    policyStrings: sts.kind === "policy" ? sts.policy.lines : [],
    mxHost,
    result: "validation-failure",
    detail: `MX ${mxHost} does not match the policy's mx patterns`,
  };
}

/** The header From's domain (so the signature aligns for DMARC), else the envelope sender's. */
function signingDomain(message: Buffer, mailFrom: string): string {
  const from = headerFromAddresses(message)?.[0] ?? mailFrom;
  return from.split("@")[1] ?? "";
}

function dnsMessage(err: unknown): string {
  return `DNS: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
}
