/**
 * SMTP replies as values: a reply code plus its enhanced status code (RFC 3463), thrown
 * from smtp-server callbacks.
 *
 * smtp-server adds an enhanced code of its own choosing to every error reply, derived from
 * the numeric code alone (550 is always 5.1.1), which would make "relaying denied" read
 * "550 5.1.1". {@link installEnhancedCodePassThrough} changes one rule: a reply text that
 * already starts with an enhanced code keeps it and gets no second one.
 */
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import { EdgeError } from "../edge/errors.ts";

export class SmtpReply extends Error {
  readonly responseCode: number;
  readonly enhanced: string;

  constructor(responseCode: number, enhanced: string, text: string) {
    super(`${enhanced} ${text}`);
    this.name = "SmtpReply";
    this.responseCode = responseCode;
    this.enhanced = enhanced;
  }
}

export const replies = {
  unknownUser: () => new SmtpReply(550, "5.1.1", "No such user here"),
  relayDenied: () => new SmtpReply(550, "5.7.1", "Relaying denied"),
  tooBig: () => new SmtpReply(552, "5.3.4", "Message exceeds fixed maximum message size"),
  tryAgain: () => new SmtpReply(451, "4.3.0", "Temporary failure, please try again later"),
  badRecipient: () => new SmtpReply(501, "5.1.3", "Bad recipient address syntax"),
  // Submission (465/587): RFC 3207, RFC 4954, RFC 6409.
  startTlsFirst: () => new SmtpReply(530, "5.7.0", "Must issue a STARTTLS command first"),
  authRequired: () => new SmtpReply(530, "5.7.0", "Authentication required"),
  encryptionRequired: () => new SmtpReply(538, "5.7.11", "Encryption required"),
  authInvalid: () => new SmtpReply(535, "5.7.8", "Authentication credentials invalid"),
  authTooManyFailures: () => new SmtpReply(454, "4.7.0", "Too many failed attempts, try later"),
  authTemporaryFailure: () => new SmtpReply(454, "4.7.0", "Temporary authentication failure"),
  senderNotOwned: () => new SmtpReply(553, "5.7.1", "Sender address not owned by you"),
  fromHeaderNotOwned: () => new SmtpReply(553, "5.7.1", "From header address not owned by you"),
  rateLimited: () => new SmtpReply(450, "4.7.1", "Rate limit exceeded, try later"),
  // MX abuse limits (abuse-limits.ts). 421 closes the connection (RFC 5321 §3.8); the texts
  // start with our name, as RFC 5321 §4.2 shows 421 and Postfix's anvil/error-limit replies do.
  tooManyConnections: (hostname: string, ip: string) =>
    new SmtpReply(421, "4.7.0", `${hostname} Error: too many connections from [${ip}], try again later`),
  tooManyMessages: (hostname: string) =>
    new SmtpReply(421, "4.7.0", `${hostname} Error: too many messages in this connection, continue on a new one`),
  tooManyCommands: (hostname: string) =>
    new SmtpReply(421, "4.7.0", `${hostname} Error: too many commands without a mail transaction`),
  tooManyUnknownRecipients: (hostname: string) =>
    new SmtpReply(421, "4.7.0", `${hostname} Error: too many unknown recipients`),
  /** Sent before our greeting (RFC 5321 §4.3.1 has the client wait for it); Exim answers 554 too. */
  earlyTalker: () => new SmtpReply(554, "5.5.0", "SMTP synchronization error: command sent before the greeting"),
  /** Postfix's reject_rbl_client text. */
  dnsblListed: (ip: string, zone: string) =>
    new SmtpReply(554, "5.7.1", `Service unavailable; Client host [${ip}] blocked using ${zone}`),
};

/** The SMTP form of a failed edge call; anything unknown is temporary (the sender retries). */
export function replyForEdgeError(err: unknown): SmtpReply {
  if (err instanceof SmtpReply) return err;
  if (err instanceof EdgeError && !err.temporary && err.smtp) {
    return new SmtpReply(err.smtp.code, err.smtp.enhanced, err.message);
  }
  return replies.tryAgain();
}

const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

/** Servers (submission on 587) that offer AUTH only under TLS; see {@link requireTlsForAuth}. */
const tlsBeforeAuth = new WeakSet<object>();

/**
 * For a server that requires TLS before AUTH (RFC 4954 §4, RFC 3207): EHLO before STARTTLS
 * does not advertise AUTH, and smtp-server's own refusal of AUTH before STARTTLS
 * ("538 5.7.0 Error: Must issue a STARTTLS command first") becomes `538 5.7.11 Encryption
 * required` (RFC 5248's code for "encryption required for requested authentication mechanism").
 */
export function requireTlsForAuth(server: object): void {
  installEnhancedCodePassThrough();
  tlsBeforeAuth.add(server);
}

export function installEnhancedCodePassThrough(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(code: number, data: unknown, context?: unknown): unknown;
  };
  const send = proto.send;
  proto.send = function (this: { _server?: object; secure?: boolean }, code: number, data: unknown, context?: unknown) {
    if (this._server && tlsBeforeAuth.has(this._server) && !this.secure) {
      if (code === 538) data = replies.encryptionRequired().message;
      else if (code === 250 && Array.isArray(data)) data = data.filter((line) => !/^AUTH\b/i.test(String(line)));
    }
    if (typeof data === "string" && ENHANCED_CODE.test(data)) context = false;
    return send.call(this, code, data, context);
  };
}
