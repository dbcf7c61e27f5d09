/**
 * One SMTP transaction with one MX address: EHLO, STARTTLS whenever offered, the TLS policy
 * checked before MAIL FROM, then MAIL/RCPT/DATA for all of the job's recipients at once.
 *
 * Callers may rely on: under a policy that demands TLS (MTA-STS enforce, DANE) the envelope and
 * message are never sent unless the session is encrypted and the certificate satisfies the
 * policy — the connection is closed right after the handshake instead; `outcomes` is present
 * only when the remote MX answered the envelope (then the job is decided at this host), and
 * absent when the next MX should be tried. nodemailer's SMTPConnection speaks the protocol.
 * With a cache, sessions outlive the transaction and carry the next job for the same
 * destination (no second TLS result is reported for a reused session: TLS-RPT counts sessions).
 */
import type { TLSSocket } from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { RecipientOutcome, TlsResultType, TlsSessionResult } from "../../common/contract.ts";
import type { SmtpConnectionCache } from "./connection-cache.ts";
import { daneMatches, tlsaPolicyStrings, usableTlsa } from "./dane.ts";
import type { TlsaRecord } from "./dns.ts";

/** What the receiving domain's policy requires of this session. */
export type TlsRequirement =
  | { kind: "opportunistic"; policyDomain: string }
  | { kind: "sts"; policyDomain: string; enforce: boolean; policyStrings: string[] }
  | { kind: "dane"; policyDomain: string; records: TlsaRecord[] };

export interface TransferRequest {
  ip: string;
  mxHost: string;
  port: number;
  heloName: string;
  requirement: TlsRequirement;
  ca: string[];
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  mailFrom: string;
  recipients: string[];
  message: Buffer;
}

export interface TransferResult {
  outcomes?: RecipientOutcome[];
  /** Why this host could not take the message (when `outcomes` is absent). */
  error?: string;
  tls?: TlsSessionResult;
}

export async function transferToHost(req: TransferRequest, cache?: SmtpConnectionCache): Promise<TransferResult> {
  // The destination domain is part of the key: the TLS policy that admitted a session is then
  // the one that applies to its next transaction.
  const key = `${req.ip}|${req.mxHost}|${req.requirement.kind}|${req.requirement.policyDomain}`;
  const idle = cache?.take(key);
  if (idle) {
    const result = await transact(idle, req, undefined, { cache, key, reused: true });
    if (result !== "retry-fresh") return result;
  }

  const conn = new SMTPConnection({
    host: req.ip,
    port: req.port,
    name: req.heloName,
    servername: req.mxHost,
    secure: false,
    // A failed STARTTLS falls back to plaintext; the requirement check below decides whether that may go on.
    opportunisticTLS: true,
    // Verification is judged per policy after the handshake, so a plain "untrusted" certificate
    // still encrypts opportunistic mail, as Postfix's "may" level does.
    tls: { rejectUnauthorized: false, ca: req.ca, minVersion: "TLSv1.2" },
    connectionTimeout: req.connectTimeoutMs,
    greetingTimeout: req.commandTimeoutMs,
    socketTimeout: req.commandTimeoutMs,
    logger: false,
  });
  const closed = new Promise<void>((resolve) => conn.once("end", () => resolve()));
  conn.on("error", () => {
    /* reported through the callbacks */
  });
  try {
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    const tls = isTlsFailure(err) ? tlsResult(req, "validation-failure", describe(err)) : undefined;
    conn.close();
    return { error: `${req.mxHost}[${req.ip}]: ${describe(err)}`, tls };
  }

  const verdict = checkTls(conn, req);
  if (!verdict.proceed) {
    conn.quit();
    await Promise.race([closed, delay(1_000)]);
    conn.close();
    return { error: `${req.mxHost}[${req.ip}]: ${verdict.tls?.detail ?? "TLS policy not met"}`, tls: verdict.tls };
  }
  const result = await transact(conn, req, verdict.tls, { cache, key, reused: false });
  return result === "retry-fresh" ? { error: `${req.mxHost}[${req.ip}]: connection lost` } : result;
}

/**
 * MAIL, RCPT, DATA on an established session; afterwards the session goes back to the cache
 * (after RSET when the server refused the transaction) or is closed. "retry-fresh": a reused
 * session turned out dead before the server saw the message, so a new one may carry it.
 */
async function transact(
  conn: SMTPConnection,
  req: TransferRequest,
  tls: TlsSessionResult | undefined,
  reuse: { cache: SmtpConnectionCache | undefined; key: string; reused: boolean },
): Promise<TransferResult | "retry-fresh"> {
  const release = () => (reuse.cache ? reuse.cache.give(reuse.key, conn) : conn.quit());
  try {
    const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
      conn.send(
        { from: req.mailFrom, to: req.recipients, size: req.message.length, use8BitMime: has8bit(req.message) },
        req.message,
        (err, sent) => (err ? reject(err) : resolve(sent)),
      ),
    );
    const rejected = new Map<string, SMTPConnection.SMTPError>();
    for (const e of (info as { rejectedErrors?: SMTPConnection.SMTPError[] }).rejectedErrors ?? []) {
      if (e.recipient) rejected.set(e.recipient, e);
    }
    const outcomes = req.recipients.map((recipient) =>
      outcomeFromReply(recipient, req.mxHost, rejected.get(recipient)?.response ?? info.response),
    );
    release();
    return { outcomes, tls };
  } catch (err) {
    const e = err as SMTPConnection.SMTPError & { rejectedErrors?: SMTPConnection.SMTPError[]; command?: string };
    if (!e.responseCode) {
      conn.close();
      // A cached session the server had already dropped fails at the first command.
      if (reuse.reused && (e.command === "API" || e.command === "CONN" || e.command === "MAIL FROM")) return "retry-fresh";
      // The connection broke mid-transaction: the message may or may not have arrived (a lost 250).
      return { error: `${req.mxHost}[${req.ip}]: ${describe(err)}`, tls };
    }
    const perRecipient = new Map<string, string>();
    for (const r of e.rejectedErrors ?? []) if (r.recipient && r.response) perRecipient.set(r.recipient, r.response);
    const outcomes = req.recipients.map((recipient) =>
      outcomeFromReply(recipient, req.mxHost, perRecipient.get(recipient) ?? e.response ?? String(e.responseCode)),
    );
    if (e.responseCode === 421) conn.close();
    else conn.reset((resetErr) => (resetErr ? conn.close() : release()));
    return { outcomes, tls };
  }
}

function checkTls(conn: SMTPConnection, req: TransferRequest): { proceed: boolean; tls?: TlsSessionResult } {
  const { requirement } = req;
  if (!conn.secure) {
    if (requirement.kind === "opportunistic") return { proceed: true };
    const tls = tlsResult(req, "starttls-not-supported", `${req.mxHost} did not offer STARTTLS`);
    return { proceed: requirement.kind === "sts" && !requirement.enforce, tls };
  }
  const socket = tlsSocketOf(conn);
  if (requirement.kind === "dane") {
    if (usableTlsa(requirement.records).length === 0) return { proceed: true, tls: tlsResult(req, "success") };
    const ok = daneMatches(requirement.records, socket.getPeerCertificate(true), req.mxHost);
    return ok
      ? { proceed: true, tls: tlsResult(req, "success") }
      : { proceed: false, tls: tlsResult(req, "tlsa-invalid", `no TLSA record of ${req.mxHost} matches its certificate`) };
  }
  if (socket.authorized) return { proceed: true, tls: tlsResult(req, "success") };
  if (requirement.kind === "opportunistic") return { proceed: true };
  const reason = String(socket.authorizationError ?? "unverified");
  const tls = tlsResult(req, certificateResult(reason), `${req.mxHost}: ${reason}`);
  return { proceed: !requirement.enforce, tls };
}

/**
 * nodemailer keeps the upgraded socket private; the policy needs its verdict and chain after
 * the handshake and before MAIL FROM, which no public hook offers.
 */
function tlsSocketOf(conn: SMTPConnection): TLSSocket {
  return (conn as unknown as { _socket: TLSSocket })._socket;
}

function certificateResult(reason: string): TlsResultType {
  if (reason === "CERT_HAS_EXPIRED") return "certificate-expired";
  if (reason === "ERR_TLS_CERT_ALTNAME_INVALID" || /altname|hostname/i.test(reason)) return "certificate-host-mismatch";
  return "certificate-not-trusted";
}

function tlsResult(req: TransferRequest, result: TlsResultType, detail?: string): TlsSessionResult {
  const { requirement } = req;
  return {
    policyType: requirement.kind === "sts" ? "sts" : requirement.kind === "dane" ? "tlsa" : "no-policy-found",
    policyDomain: requirement.policyDomain,
    policyStrings:
      requirement.kind === "sts" ? requirement.policyStrings : requirement.kind === "dane" ? tlsaPolicyStrings(requirement.records) : [],
    mxHost: req.mxHost,
    receivingIp: req.ip,
    result,
    ...(detail ? { detail: detail.slice(0, 1000) } : {}),
  };
}

const REPLY = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3}))?\s*(.*)$/s;

/** A reply line such as `550 5.1.1 no such user` → the recipient's outcome. */
export function outcomeFromReply(recipient: string, mxHost: string, reply: string | undefined): RecipientOutcome {
  const match = REPLY.exec((reply ?? "").trim());
  const code = match ? Number(match[1]) : 451;
  const outcome = code < 400 ? "delivered" : code < 500 ? "deferred" : "failed";
  return {
    recipient,
    outcome,
    smtp: { code, enhanced: match?.[2] ?? null, message: (match?.[3] ?? reply ?? "").slice(0, 1000) },
    mx: mxHost,
  };
}

function isTlsFailure(err: unknown): boolean {
  return (err as { code?: string }).code === "ETLS";
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function has8bit(message: Buffer): boolean {
  for (const byte of message) if (byte > 0x7f) return true;
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
