/**
 * The MX's abuse limits (see {@link mxLimits} for each value, its default and its source) and
 * the DNSBL verdict, kept out of mx.ts's handlers so each handler makes one call.
 *
 * Where each one bites, and its reply:
 *   connect — more than maxConnectionsPerIp open from one IP: `421 4.7.0` instead of the greeting.
 *             DNSBL lookups of the client start here (they do not delay the greeting).
 *   any     — a command before our 220 (early talker): `554 5.5.0` and disconnect. Commands
 *             outside a transaction beyond maxCommandsWithoutMail: `421 4.7.0` and disconnect.
 *   MAIL    — after maxMessagesPerConnection accepted messages: `421 4.7.0` and disconnect.
 *   RCPT    — after maxUnknownRecipients refusals with 550 5.1.1: `421 4.7.0` and disconnect.
 *             A client listed on a DNSBL zone, for a recipient whose domain's `dnsbl` action is
 *             "reject": `554 5.7.1 Service unavailable; Client host [ip] blocked using <zone>`
 *             (Postfix's reject_rbl_client text).
 *
 * Callers may rely on: `install(server)` is needed once per SMTPServer (before it accepts
 * connections) for the early-talker and command limits; everything else is the handlers'
 * calls. State lives in memory and per relay (as Postfix's anvil does per host).
 */
import type { SMTPServer, SMTPServerSession } from "smtp-server";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import type { InboundPolicy } from "../../common/contract.ts";
import type { Dnsbl } from "./dnsbl.ts";
import type { MxLimits } from "./limits.ts";
import { mxSession } from "./mx-session.ts";
import { replies, type SmtpReply } from "./replies.ts";

/** What smtp-server's connection calls its own idle wait before the greeting (fixed). */
const SMTP_SERVER_GREETING_WAIT_MS = 100;

interface ConnectionState {
  /** The IP this connection is counted under (null: not counted, e.g. refused at connect). */
  countedIp: string | null;
  commandsWithoutMail: number;
  closed: boolean;
  /** DNSBL zones listing the client, started at connect. */
  listings: Promise<string[]> | null;
}

export interface MxAbuseOptions {
  hostname: string;
  limits: MxLimits;
  /** null/undefined: no DNSBL zones configured. */
  dnsbl?: Dnsbl | null;
  log?: (line: string) => void;
}

export class MxAbuseGuard {
  readonly #limits: MxLimits;
  readonly #hostname: string;
  readonly #dnsbl: Dnsbl | null;
  readonly #log: (line: string) => void;
  readonly #perIp = new Map<string, number>();
  readonly #states = new WeakMap<SMTPServerSession, ConnectionState>();

  constructor(options: MxAbuseOptions) {
    this.#limits = options.limits;
    this.#hostname = options.hostname;
    this.#dnsbl = options.dnsbl && options.dnsbl.zones.length > 0 ? options.dnsbl : null;
    this.#log = options.log ?? (() => {});
  }

  #state(session: SMTPServerSession): ConnectionState {
    let state = this.#states.get(session);
    if (!state) {
      state = { countedIp: null, commandsWithoutMail: 0, closed: false, listings: null };
      this.#states.set(session, state);
    }
    return state;
  }

  /** Open connections counted for `ip` (tests, diagnostics). */
  connectionsFrom(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** smtp-server's onConnect: the per-IP limit, DNSBL lookups, the greeting delay. */
  onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const ip = session.remoteAddress;
    const state = this.#state(session);
    const open = this.#perIp.get(ip) ?? 0;
    if (open >= this.#limits.maxConnectionsPerIp) {
      this.#log(`mx: refused ${ip}: ${open} connections open (maxConnectionsPerIp ${this.#limits.maxConnectionsPerIp})`);
      return callback(replies.tooManyConnections(this.#hostname, ip));
    }
    this.#perIp.set(ip, open + 1);
    state.countedIp = ip;
    if (this.#dnsbl) {
      state.listings = this.#dnsbl.listings(ip).then((zones) => {
        mxSession(session).dnsblListings = zones;
        if (zones.length > 0) this.#log(`mx: ${ip} is listed on ${zones.join(", ")}`);
        return zones;
      });
    }
    const wait = this.#limits.greetingDelayMs - SMTP_SERVER_GREETING_WAIT_MS;
    if (wait <= 0) return callback();
    setTimeout(() => {
      // An early talker was already answered and disconnected while we waited.
      if (state.closed) return callback(new Error("connection closed before the greeting"));
      callback();
    }, wait).unref();
  }

  /** smtp-server's onClose. */
  onClose(session: SMTPServerSession): void {
    const state = this.#state(session);
    state.closed = true;
    const ip = state.countedIp;
    if (ip === null) return;
    state.countedIp = null;
    const n = (this.#perIp.get(ip) ?? 0) - 1;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
  }

  /** At MAIL: the reply refusing it, or null (then call {@link transactionStarted}). */
  checkMail(session: SMTPServerSession): SmtpReply | null {
    const messages = mxSession(session).messages;
    if (messages >= this.#limits.maxMessagesPerConnection) {
      this.#log(`mx: ${session.remoteAddress} sent ${messages} messages on one connection; closing`);
      return replies.tooManyMessages(this.#hostname);
    }
    return null;
  }

  /** A MAIL was accepted: the count of commands outside a transaction starts over. */
  transactionStarted(session: SMTPServerSession): void {
    this.#state(session).commandsWithoutMail = 0;
  }

  /** At RCPT, before asking the edge: the reply refusing it, or null. */
  checkRcpt(session: SMTPServerSession): SmtpReply | null {
    const unknown = mxSession(session).unknownRecipients;
    if (unknown >= this.#limits.maxUnknownRecipients) {
      this.#log(`mx: ${session.remoteAddress} tried ${unknown} unknown recipients; closing`);
      return replies.tooManyUnknownRecipients(this.#hostname);
    }
    return null;
  }

  /** A RCPT was refused with 550 5.1.1. */
  unknownRecipient(session: SMTPServerSession): void {
    mxSession(session).unknownRecipients += 1;
  }

  /**
   * At RCPT, once the recipient's domain policy is known: 554 5.7.1 naming the first listing
   * zone when the client is listed and the domain rejects listed clients; otherwise null
   * ("quarantine" and "ignore" are decided at DATA from `dnsblListings`). Never rejects.
   */
  async dnsblRejection(session: SMTPServerSession, policy: InboundPolicy): Promise<SmtpReply | null> {
    const pending = this.#state(session).listings;
    if (!pending) return null;
    const zones = await pending;
    if (zones.length === 0 || policy.dnsbl !== "reject") return null;
    return replies.dnsblListed(session.remoteAddress, zones[0]!);
  }

  /**
   * Hooks this guard into `server`'s command loop: early talkers, and the commands-without-MAIL
   * count. Call once, before the server listens.
   */
  install(server: SMTPServer): void {
    installCommandHook();
    commandHooks.set(server, (session, command, ready) => this.#onCommand(session, command, ready));
  }

  #onCommand(session: SMTPServerSession, command: string, ready: boolean): SmtpReply | null {
    if (!ready) return replies.earlyTalker();
    const state = this.#state(session);
    if (command === "QUIT" || session.envelope?.mailFrom) return null;
    state.commandsWithoutMail += 1;
    if (state.commandsWithoutMail > this.#limits.maxCommandsWithoutMail) {
      this.#log(`mx: ${session.remoteAddress} sent ${this.#limits.maxCommandsWithoutMail} commands without a transaction; closing`);
      return replies.tooManyCommands(this.#hostname);
    }
    return null;
  }
}

/**
 * Called by the patched command loop for every command line of a hooked server, before
 * smtp-server looks at it. `ready`: our greeting has been sent. A reply returned is sent and
 * the connection closed; the command is not run.
 */
type CommandHook = (session: SMTPServerSession, commandName: string, ready: boolean) => SmtpReply | null;

const commandHooks = new WeakMap<object, CommandHook>();
let hookInstalled = false;

interface ConnectionInternals {
  _server: object & { _closeTimeout?: unknown };
  _ready: boolean;
  _upgrading: boolean;
  _nextHandler: unknown;
  _closing: boolean;
  session: SMTPServerSession;
  send(code: number, data: string, context?: unknown): void;
  close(): void;
}

/**
 * smtp-server has no per-command hook; its `_onCommand` is the one place every command line
 * passes (the parser of the TLS session after STARTTLS calls it too). Lines buffered during a
 * TLS handshake, AUTH continuation lines and commands during shutdown are left to it.
 */
function installCommandHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  const proto = SMTPConnection.prototype as unknown as { _onCommand(this: ConnectionInternals, command: Buffer, callback: () => void): unknown };
  const original = proto._onCommand;
  proto._onCommand = function (this: ConnectionInternals, command: Buffer, callback: () => void) {
    const hook = commandHooks.get(this._server);
    if (hook && !this._upgrading && !this._nextHandler && !this._closing && !this._server._closeTimeout) {
      const name = (command || "").toString().split(" ").shift()!.toUpperCase();
      const reply = hook(this.session, name, this._ready);
      if (reply) {
        // The enhanced code is in the text already (context false: smtp-server adds none).
        this.send(reply.responseCode, reply.message, false);
        this.close(); // 421 closes in send() already; close() is idempotent
        return;
      }
    }
    return original.call(this, command, callback);
  };
}
