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

export function installEnhancedCodePassThrough(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(code: number, data: unknown, context?: unknown): unknown;
  };
  const send = proto.send;
  proto.send = function (this: unknown, code: number, data: unknown, context?: unknown) {
    if (typeof data === "string" && ENHANCED_CODE.test(data)) context = false;
    return send.call(this, code, data, context);
  };
}
