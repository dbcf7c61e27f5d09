/**
 * The MX listener (port 25): accepts mail for our domains only, from anyone, without AUTH.
 *
 * Policy, in the order a session meets it (the abuse limits and the DNSBL verdict, with their
 * replies, are listed in abuse-limits.ts):
 *   RCPT  — asked of the edge: a local user is accepted; an unknown user of our domain gets
 *           550 5.1.1; any other domain gets 550 5.7.1 (we are no open relay); an edge that
 *           cannot answer gets 451 4.3.0, so the sender retries.
 *   DATA  — over the size limit: 552 5.3.4 (smtp-server's rejectOversized). Otherwise the
 *           message is authenticated (SPF/DKIM/DMARC/ARC) and judged by the recipients' domain
 *           policies: a reject verdict gets 550 5.7.1 and nothing is stored; else it goes to
 *           the edge (Junk for quarantine) and 250 is sent only after the edge committed it.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { EdgeClient } from "../edge/client.ts";
import { readMessage } from "./message-upload.ts";
import type { TlsMaterial } from "../tls.ts";
import type { ChangeFeed } from "../imap/change-feed.ts";
import { deliverInbound, InboundRejected } from "./inbound.ts";
import type { MailauthResolver } from "./inbound-authentication.ts";
import { mxSession, startTransaction } from "./mx-session.ts";
import { sharedServerOptions, type MxLimits, type SmtpLimits } from "./limits.ts";
import { MxAbuseGuard } from "./abuse-limits.ts";
import type { Dnsbl } from "./dnsbl.ts";
import { installEnhancedCodePassThrough, replies, replyForEdgeError } from "./replies.ts";

export interface MxOptions {
  edge: EdgeClient;
  hostname: string;
  tls: TlsMaterial;
  limits: SmtpLimits;
  /** Abuse limits of port 25 (connections per IP, messages per connection, …). */
  mxLimits: MxLimits;
  /** DNSBL zones to consult; null/absent: none. */
  dnsbl?: Dnsbl | null;
  /** Told of every stored copy, so IDLE sessions on this relay see new mail at once. */
  changes?: ChangeFeed;
  /** DNS for SPF/DKIM/DMARC/ARC/iprev at the end of DATA (the config's dnsServers). */
  resolver: MailauthResolver;
  log?: (line: string) => void;
}

export function createMxServer(options: MxOptions): SMTPServer {
  installEnhancedCodePassThrough();
  const { edge, limits } = options;
  const log = options.log ?? (() => {});
  const guard = new MxAbuseGuard({ hostname: options.hostname, limits: options.mxLimits, dnsbl: options.dnsbl ?? null, log });

  const server = new SMTPServer({
    name: options.hostname,
    banner: "edgemail ESMTP",
    secure: false,
    key: options.tls.key,
    cert: options.tls.cert,
    disabledCommands: ["AUTH"],
    authOptional: true,
    ...sharedServerOptions(limits),

    onConnect(session, callback) {
      guard.onConnect(session, callback);
    },

    onClose(session) {
      guard.onClose(session);
    },

    onMailFrom(_address, session, callback) {
      const refused = guard.checkMail(session);
      if (refused) return callback(refused);
      startTransaction(session);
      guard.transactionStarted(session);
      callback();
    },

    onRcptTo(address, session, callback) {
      const refused = guard.checkRcpt(session);
      if (refused) return callback(refused);
      edge.checkRecipient(address.address).then(
        async (check) => {
          if (check.result === "local") {
            const blocked = await guard.dnsblRejection(session, check.policy);
            if (blocked) return callback(blocked);
            mxSession(session).policies.push(check.policy);
            return callback();
          }
          if (check.result === "unknown_user") guard.unknownRecipient(session);
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
              { edge, hostname: options.hostname, resolver: options.resolver, log },
              {
                mailFrom,
                recipients: session.envelope.rcptTo.map((r) => r.address),
                raw,
                heloName: session.hostNameAppearsAs,
                remoteAddress: session.remoteAddress,
                secure: session.secure,
                policies: mxSession(session).policies,
                dnsblListings: mxSession(session).dnsblListings,
              },
            );
            for (const copy of result.stored) options.changes?.publish({ accountId: copy.accountId, mailboxId: copy.mailboxId });
            mxSession(session).messages += 1; // maxMessagesPerConnection (abuse-limits.ts)
            callback(null, `2.6.0 Stored as ${result.deliveryId}`);
          } catch (err) {
            if (err instanceof InboundRejected) log(`rejected <${mailFrom}> from [${session.remoteAddress}]: ${err.reasons.join(",")}`);
            else log(`delivery from <${mailFrom}> failed: ${String(err)}`);
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
  guard.install(server);
  return server;
}

function isBadAddress(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err as { code: unknown }).code === "bad_request";
}
