/**
 * The MX listener (port 25): accepts mail for our domains only, from anyone, without AUTH.
 *
 * Policy, in the order a session meets it:
 *   RCPT  — asked of the edge: a local user is accepted; an unknown user of our domain gets
 *           550 5.1.1; any other domain gets 550 5.7.1 (we are no open relay); an edge that
 *           cannot answer gets 451 4.3.0, so the sender retries.
 *   DATA  — over the size limit: 552 5.3.4 (smtp-server's rejectOversized). Otherwise the
 *           message goes to the edge and 250 is sent only after the edge committed it.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { EdgeClient } from "../edge/client.ts";
import { readMessage } from "./message-upload.ts";
import type { TlsMaterial } from "../tls.ts";
import type { ChangeFeed } from "../imap/change-feed.ts";
import { deliverInbound } from "./inbound.ts";
import { mxSession, startTransaction } from "./mx-session.ts";
import type { SmtpLimits } from "./limits.ts";
import { installEnhancedCodePassThrough, replies, replyForEdgeError } from "./replies.ts";

export interface MxOptions {
  edge: EdgeClient;
  hostname: string;
  tls: TlsMaterial;
  limits: SmtpLimits;
  /** Told of every stored copy, so IDLE sessions on this relay see new mail at once. */
  changes?: ChangeFeed;
  log?: (line: string) => void;
}

export function createMxServer(options: MxOptions): SMTPServer {
  installEnhancedCodePassThrough();
  const { edge, limits } = options;
  const log = options.log ?? (() => {});

  return new SMTPServer({
    name: options.hostname,
    banner: "edgemail ESMTP",
    secure: false,
    key: options.tls.key,
    cert: options.tls.cert,
    disabledCommands: ["AUTH"],
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    size: limits.maxMessageBytes,
    rejectOversized: true,
    maxRecipients: limits.maxRecipients,
    maxClients: limits.maxClients,
    socketTimeout: limits.socketTimeoutMs,
    disableReverseLookup: true,
    logger: false,

    onMailFrom(_address, session, callback) {
      startTransaction(session);
      callback();
    },

    onRcptTo(address, session, callback) {
      edge.checkRecipient(address.address).then(
        (check) => {
          if (check.result === "local") {
            mxSession(session).policies.push(check.policy);
            return callback();
          }
          callback(check.result === "unknown_user" ? replies.unknownUser() : replies.relayDenied());
        },
        (err: unknown) => {
          if (isBadAddress(err)) return callback(replies.badRecipient());
          log(`rcpt check for ${address.address} failed: ${String(err)}`);
          callback(replies.tryAgain());
        },
      );
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      readMessage(stream, limits.maxMessageBytes).then(
        async (raw) => {
          if (raw === null) return callback(replies.tooBig());
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          try {
            const result = await deliverInbound(
              { edge, hostname: options.hostname },
              {
                mailFrom,
                recipients: session.envelope.rcptTo.map((r) => r.address),
                raw,
                heloName: session.hostNameAppearsAs,
                remoteAddress: session.remoteAddress,
                secure: session.secure,
              },
            );
            for (const copy of result.stored) options.changes?.publish({ accountId: copy.accountId, mailboxId: copy.mailboxId });
            callback(null, `2.6.0 Stored as ${result.deliveryId}`);
          } catch (err) {
            log(`delivery from <${mailFrom}> failed: ${String(err)}`);
            callback(replyForEdgeError(err));
          }
        },
        (err: unknown) => {
          log(`reading DATA failed: ${String(err)}`);
          callback(replies.tryAgain());
        },
      );
    },
  });
}

function isBadAddress(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "bad_request";
}
