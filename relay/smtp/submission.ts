/**
 * The submission listeners (RFC 6409): 465 with implicit TLS (RFC 8314) and 587 with
 * STARTTLS. Mail from our own users to anyone, only after AUTH over TLS.
 *
 * Policy, in the order a session meets it:
 *   EHLO  — before TLS (587) AUTH is not advertised.
 *   AUTH  — PLAIN or LOGIN (SASL-IR allowed), only under TLS: before STARTTLS 538 5.7.11.
 *           Checked by the edge (which the client caches when positive). A wrong password gets
 *           535 5.7.8; after maxAuthFailures failures within authFailureWindowMs from one IP
 *           or for one user name, 454 4.7.0 without asking the edge. Edge down: 454 4.7.0.
 *   MAIL  — before STARTTLS 530 5.7.0 (Must issue a STARTTLS command first); before AUTH
 *           530 5.7.0 (Authentication required); over the account's hourly submission limit
 *           450 4.7.1; an address the account may not use (asked of the edge) 553 5.7.1;
 *           the null sender is not for submission: 553 5.7.1. Edge down: 451 4.3.0.
 *   RCPT  — any domain (this is where we relay to the world); a malformed address 501 5.1.3;
 *           more than maxRecipients 452 4.5.3 (smtp-server).
 *   DATA  — over the size limit 552 5.3.4; a first From header field with any address the
 *           account may not use (or none usable) 553 5.7.1; otherwise stored and queued at the
 *           edge and answered `250 2.0.0 Queued as <submissionId>` only after the edge's 2xx;
 *           any edge failure 451 4.3.0.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { EmailAddress, type AuthResult } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { readMessage } from "./message-upload.ts";
import { EdgeError } from "../edge/errors.ts";
import type { TlsMaterial } from "../tls.ts";
import type { ChangeFeed } from "../imap/change-feed.ts";
import { sharedServerOptions, type SmtpLimits } from "./limits.ts";
import { headerFromAddresses, submitMessage } from "./outbound-submission.ts";
import { installEnhancedCodePassThrough, replies, requireTlsForAuth, SmtpReply } from "./replies.ts";

export interface SubmissionOptions {
  edge: EdgeClient;
  hostname: string;
  tls: TlsMaterial;
  limits: SmtpLimits;
  /** true: 465 (TLS from the first byte); false: 587 (STARTTLS). */
  implicitTls: boolean;
  /** Shared by both listeners so a guesser cannot double its budget by switching ports. */
  guards?: SubmissionGuards;
  changes?: ChangeFeed;
  /** Called when a submission queued recipients elsewhere, so delivery starts without waiting for a poll. */
  onQueued?: () => void;
  log?: (line: string) => void;
}

/** Timestamps of events per key within a sliding window; bounded in keys and per key. */
class SlidingCounter {
  readonly #events = new Map<string, number[]>();
  readonly #windowMs: number;
  readonly #max: number;
  /** Beyond this many keys the oldest are dropped: memory stays bounded under a flood of names. */
  static readonly maxKeys = 100_000;

  constructor(windowMs: number, max: number) {
    this.#windowMs = windowMs;
    this.#max = max;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#events.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (list.length === 0) this.#events.delete(key);
    else this.#events.set(key, list);
    return list;
  }

  full(key: string, now = Date.now()): boolean {
    return this.#recent(key, now).length >= this.#max;
  }

  record(key: string, now = Date.now()): void {
    const list = this.#recent(key, now);
    list.push(now);
    if (list.length > this.#max) list.splice(0, list.length - this.#max);
    this.#events.delete(key);
    this.#events.set(key, list);
    while (this.#events.size > SlidingCounter.maxKeys) {
      const oldest = this.#events.keys().next().value;
      if (oldest === undefined) break;
      this.#events.delete(oldest);
    }
  }
}

/** In-memory, per relay: auth failures by IP and by user name, submissions by account. */
export class SubmissionGuards {
  readonly authFailures: SlidingCounter;
  readonly submissions: SlidingCounter;

  constructor(limits: Pick<SmtpLimits, "maxAuthFailures" | "authFailureWindowMs" | "maxSubmissionsPerHour">) {
    this.authFailures = new SlidingCounter(limits.authFailureWindowMs, limits.maxAuthFailures);
    this.submissions = new SlidingCounter(60 * 60 * 1000, limits.maxSubmissionsPerHour);
  }

  authBlocked(ip: string, username: string): boolean {
    return this.authFailures.full(`ip:${ip}`) || this.authFailures.full(`user:${username.toLowerCase()}`);
  }

  authFailed(ip: string, username: string): void {
    this.authFailures.record(`ip:${ip}`);
    this.authFailures.record(`user:${username.toLowerCase()}`);
  }
}

export function createSubmissionServer(options: SubmissionOptions): SMTPServer {
  installEnhancedCodePassThrough();
  const { edge, limits } = options;
  const log = options.log ?? (() => {});
  const guards = options.guards ?? new SubmissionGuards(limits);
  const principalOf = (session: SMTPServerSession): AuthResult | null => (session.user as AuthResult | undefined) ?? null;

  const server = new SMTPServer({
    name: options.hostname,
    banner: "edgemail ESMTP submission",
    secure: options.implicitTls,
    key: options.tls.key,
    cert: options.tls.cert,
    authMethods: ["PLAIN", "LOGIN"],
    // MAIL is refused in onMailFrom, so that "STARTTLS first" and "AUTH first" get their own replies.
    authOptional: true,
    allowInsecureAuth: false,
    ...sharedServerOptions(limits),

    onAuth(auth, session, callback) {
      if (!session.secure) return callback(replies.encryptionRequired());
      const username = auth.username ?? "";
      const password = auth.password ?? "";
      const ip = session.remoteAddress;
      if (guards.authBlocked(ip, username)) return callback(replies.authTooManyFailures());
      if (!username || !password) {
        guards.authFailed(ip, username);
        return callback(replies.authInvalid());
      }
      edge.authenticate({ username, password, remoteAddress: ip }).then(
        (principal) => callback(null, { user: principal }),
        (err: unknown) => {
          if (err instanceof EdgeError && (err.code === "auth_failed" || err.code === "bad_request")) {
            guards.authFailed(ip, username);
            return callback(replies.authInvalid());
          }
          log(`auth for ${username} failed: ${String(err)}`);
          callback(replies.authTemporaryFailure());
        },
      );
    },

    onMailFrom(address, session, callback) {
      if (!session.secure) return callback(replies.startTlsFirst());
      const principal = principalOf(session);
      if (!principal) return callback(replies.authRequired());
      if (guards.submissions.full(`account:${principal.accountId}`)) return callback(replies.rateLimited());
      if (!address.address) return callback(replies.senderNotOwned());
      edge.checkSender(principal.accountId, address.address).then(
        (check) => callback(check.allowed ? undefined : replies.senderNotOwned()),
        (err: unknown) => {
          log(`sender check for ${address.address} failed: ${String(err)}`);
          callback(replies.tryAgain());
        },
      );
    },

    onRcptTo(address, _session, callback) {
      callback(EmailAddress.safeParse(address.address).success ? undefined : replies.badRecipient());
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      readMessage(stream, limits.maxMessageBytes).then(
        async (raw) => {
          if (raw === null) return callback(replies.tooBig());
          const principal = principalOf(session);
          if (!principal) return callback(replies.authRequired());
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          try {
            await checkHeaderFrom(edge, principal, raw);
            const result = await submitMessage(
              { edge, hostname: options.hostname },
              {
                principal,
                mailFrom,
                recipients: session.envelope.rcptTo.map((r) => r.address),
                raw,
                heloName: session.hostNameAppearsAs,
                remoteAddress: session.remoteAddress,
                secure: session.secure,
              },
            );
            if (!result.duplicate) guards.submissions.record(`account:${principal.accountId}`);
            for (const copy of result.local) options.changes?.publish({ accountId: copy.accountId, mailboxId: copy.mailboxId });
            if (result.queued.length > 0) options.onQueued?.();
            callback(null, `2.0.0 Queued as ${result.submissionId}`);
          } catch (err) {
            if (!(err instanceof SmtpReply)) log(`submission by ${principal.address} from <${mailFrom}> failed: ${String(err)}`);
            callback(err instanceof SmtpReply ? err : replies.tryAgain());
          }
        },
        (err: unknown) => {
          log(`reading DATA failed: ${String(err)}`);
          callback(replies.tryAgain());
        },
      );
    },
  });
  if (!options.implicitTls) requireTlsForAuth(server);
  return server;
}

/** RFC 6409 §8.1-style check: every address of the first From field must be the principal's to use. */
async function checkHeaderFrom(edge: EdgeClient, principal: AuthResult, raw: Buffer): Promise<void> {
  const addresses = headerFromAddresses(raw);
  if (addresses === null) return; // no From at all: nothing to impersonate with
  if (addresses.length === 0) throw replies.fromHeaderNotOwned();
  for (const address of new Set(addresses)) {
    // An edge failure propagates and becomes 451 4.3.0 like any other.
    const { allowed } = await edge.checkSender(principal.accountId, address);
    if (!allowed) throw replies.fromHeaderNotOwned();
  }
}

