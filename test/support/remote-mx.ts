/**
 * Remote MX hosts for outbound-delivery tests: one smtp-server per host, each on its own loopback
 * address (127.0.0.x) and all on the same port, so a relay told "port 25 is <port>" reaches any of
 * them by the address DNS gives.
 *
 * Callers may rely on:
 * - `startRemoteMxs(hosts, { ca })` resolves once every host listens; `port` is shared by all.
 * - TLS per host: "none" offers no STARTTLS; "self-signed" a leaf signed by its own key;
 *   "trusted" a leaf for `name` from the test CA; "trusted-wrong-name" a leaf from the test CA
 *   for `wrong-name.invalid`; "expired" a leaf from the test CA for `name` that expired yesterday.
 *   The CA is `opts.ca` or a fresh one, returned as `ca`.
 * - EHLO offers PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN, SIZE (host.size, default
 *   50 MiB, enforced with 552), STARTTLS unless tls is "none"; no AUTH. The greeting and EHLO name
 *   is the host's `name`. smtp-server waits 100 ms before the greeting.
 * - `received` lists every message accepted at the end of DATA, in order; `refused` those answered
 *   with an error at the end of DATA by a `data` behaviour. `rcptTo` holds only accepted recipients.
 * - `setBehaviour(name, b)` replaces that host's behaviour at once (`{}` restores "accept all"):
 *   each hook returns (or resolves to; a promise that never settles stalls the session) a 4xx/5xx
 *   reply to refuse with, or undefined to go on. A 2xx reply also goes on; at DATA its message is
 *   the text of the 250. A reply message may begin with an enhanced status code ("4.2.0 busy"),
 *   which is then sent instead of smtp-server's default for that code.
 * - `connectionsFor(name)` counts TCP connections accepted by that host since start.
 * - `certificateOf(name)` is the PEM certificate that host presents (for TLSA data); it throws
 *   for a host with tls "none".
 * - `stop()` closes listeners and destroys open connections at once.
 */
import type { Socket } from "node:net";
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { createTestCa, type KeyAndCert, type TestCa } from "./test-ca.ts";

export type RemoteTls = "none" | "self-signed" | "trusted" | "trusted-wrong-name" | "expired";

export interface RemoteMxHost {
  /** A loopback address, 127.0.0.x. */
  ip: string;
  /** The host's name: greeting, EHLO, and the certificate's name (except "trusted-wrong-name"). */
  name: string;
  tls: RemoteTls;
  /** Advertised and enforced SIZE limit in bytes. */
  size?: number;
}

export interface SmtpReply {
  code: number;
  message: string;
}

type Hook<A extends unknown[]> = (...args: A) => SmtpReply | undefined | Promise<SmtpReply | undefined>;

export interface RemoteMxBehaviour {
  /** Replaces the 220 greeting; the connection is closed after this reply. */
  greeting?: Hook<[]>;
  mailFrom?: Hook<[address: string]>;
  rcpt?: Hook<[address: string]>;
  /** Runs at the end of DATA with the complete message. */
  data?: Hook<[message: ReceivedMessage]>;
}

export interface ReceivedMessage {
  host: string;
  ip: string;
  /** What the client said in EHLO/HELO. */
  helo: string;
  mailFrom: string;
  /** MAIL FROM parameters, keys upper-case (SIZE, BODY, SMTPUTF8, RET, ENVID, REQUIRETLS...). */
  mailParams: Record<string, string | true>;
  rcptTo: string[];
  raw: Buffer;
  secure: boolean;
  /** SNI the client sent in STARTTLS, if any. */
  servername?: string;
}

export interface RemoteMxs {
  port: number;
  ca: TestCa;
  received: ReceivedMessage[];
  refused: ReceivedMessage[];
  setBehaviour(name: string, behaviour: RemoteMxBehaviour): void;
  connectionsFor(name: string): number;
  certificateOf(name: string): string;
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  stop(): Promise<void>;
}

const DEFAULT_SIZE = 50 * 1024 * 1024;
const WRONG_NAME = "wrong-name.invalid";

// The parts of smtp-server's per-connection object used to send a caller's own enhanced code.
interface ConnectionInternals {
  session: SMTPServerSession;
  _getEnhancedStatusCode(code: number, context?: unknown): string;
}

interface HostState {
  host: RemoteMxHost;
  server: SMTPServer;
  certificate: string | undefined;
  behaviour: RemoteMxBehaviour;
  connections: number;
  sockets: Set<Socket>;
  overrides: WeakMap<SMTPServerSession, { enhanced?: string }>;
}

async function certificateFor(host: RemoteMxHost, ca: TestCa): Promise<KeyAndCert | undefined> {
  switch (host.tls) {
    case "none":
      return undefined;
    case "self-signed":
      return await ca.selfSigned([host.name]);
    case "trusted":
      return await ca.issue([host.name]);
    case "trusted-wrong-name":
      return await ca.issue([WRONG_NAME]);
    case "expired":
      return await ca.issue([host.name], { expired: true });
  }
}

function paramsOf(address: SMTPServerAddress | false): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  if (address && address.args) {
    for (const [key, value] of Object.entries(address.args)) out[key.toUpperCase()] = value === undefined ? true : (value as string | true);
  }
  return out;
}

function createHost(host: RemoteMxHost, tlsMaterial: KeyAndCert | undefined, onMessage: (m: ReceivedMessage, accepted: boolean) => void): HostState {
  const state: HostState = {
    host,
    certificate: tlsMaterial?.cert,
    behaviour: {},
    connections: 0,
    sockets: new Set(),
    overrides: new WeakMap(),
    server: undefined as unknown as SMTPServer,
  };

  const connectionOf = (session: SMTPServerSession): ConnectionInternals | undefined => {
    for (const conn of state.server.connections as Set<unknown> as Set<ConnectionInternals>) {
      if (conn.session === session) return conn;
    }
    return undefined;
  };

  // smtp-server sends the reply synchronously inside the callback (at DATA too, as the message has
  // been read to its end by then), so the enhanced-code override holds for that one reply.
  const answer = (session: SMTPServerSession, reply: SmtpReply | undefined, callback: (err?: Error | null, message?: string) => void) => {
    if (!reply) return callback();
    const match = /^([245]\.\d{1,3}\.\d{1,3}) (.*)$/s.exec(reply.message);
    const text = match ? match[2]! : reply.message;
    const slot = state.overrides.get(session);
    if (slot && match) slot.enhanced = match[1];
    try {
      if (reply.code < 400) callback(null, text);
      else callback(Object.assign(new Error(text), { responseCode: reply.code }));
    } finally {
      if (slot) slot.enhanced = undefined;
    }
  };

  const run = <A extends unknown[]>(
    hook: Hook<A> | undefined,
    args: A,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ) => {
    if (!hook) return callback();
    Promise.resolve()
      .then(() => hook(...args))
      .then(
        (reply) => answer(session, reply, callback),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
  };

  state.server = new SMTPServer({
    name: host.name,
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ["AUTH"],
    authOptional: true,
    hideSTARTTLS: host.tls === "none",
    ...(tlsMaterial ? { key: tlsMaterial.key, cert: tlsMaterial.cert } : {}),
    size: host.size ?? DEFAULT_SIZE,
    rejectOversized: true,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    hideENHANCEDSTATUSCODES: false,
    closeTimeout: 100,
    onConnect(session, callback) {
      const conn = connectionOf(session);
      if (conn) {
        const slot: { enhanced?: string } = {};
        state.overrides.set(session, slot);
        const original = conn._getEnhancedStatusCode.bind(conn);
        conn._getEnhancedStatusCode = (code, context) => slot.enhanced ?? original(code, context);
      }
      run(state.behaviour.greeting, [], session, callback);
    },
    onMailFrom(address, session, callback) {
      run(state.behaviour.mailFrom, [address.address], session, callback);
    },
    onRcptTo(address, session, callback) {
      run(state.behaviour.rcpt, [address.address], session, callback);
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.once("error", (err) => callback(err));
      stream.once("end", () => {
        if (stream.sizeExceeded) return callback(); // smtp-server answers 552 itself
        const envelope = session.envelope;
        const message: ReceivedMessage = {
          host: host.name,
          ip: host.ip,
          helo: session.hostNameAppearsAs,
          mailFrom: envelope.mailFrom ? envelope.mailFrom.address : "",
          mailParams: paramsOf(envelope.mailFrom),
          rcptTo: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          ...(session.servername ? { servername: session.servername } : {}),
        };
        run(state.behaviour.data, [message], session, (err, text) => {
          onMessage(message, !err);
          callback(err, text);
        });
      });
    },
  });
  state.server.server.on("connection", (socket: Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.once("close", () => state.sockets.delete(socket));
  });
  return state;
}

function listen(state: HostState, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = state.server.server;
    const onError = (err: Error) => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    state.server.listen(port, state.host.ip);
  });
}

async function close(state: HostState): Promise<void> {
  const closed = new Promise<void>((resolve) => state.server.close(() => resolve()));
  for (const socket of state.sockets) socket.destroy();
  if (state.server.server.listening) await closed;
}

export async function startRemoteMxs(hosts: RemoteMxHost[], opts: { ca?: TestCa } = {}): Promise<RemoteMxs> {
  if (hosts.length === 0) throw new Error("startRemoteMxs needs at least one host");
  const names = new Set(hosts.map((h) => h.name));
  if (names.size !== hosts.length) throw new Error("remote MX names must be unique");
  const ca = opts.ca ?? (await createTestCa());
  const material = await Promise.all(hosts.map((h) => certificateFor(h, ca)));

  const received: ReceivedMessage[] = [];
  const refused: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const onMessage = (message: ReceivedMessage, accepted: boolean) => {
    (accepted ? received : refused).push(message);
    for (const wake of waiters) wake();
  };

  let states: HostState[] = [];
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    states = hosts.map((h, i) => createHost(h, material[i], onMessage));
    try {
      port = await listen(states[0]!, 0);
      for (const state of states.slice(1)) await listen(state, port);
      break;
    } catch (err) {
      // The port the OS gave the first host can be taken on another address: start over.
      await Promise.all(states.map(close));
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 10) throw err;
    }
  }
  const byName = new Map(states.map((s) => [s.host.name, s]));
  const stateOf = (name: string) => {
    const state = byName.get(name);
    if (!state) throw new Error(`no remote MX named ${name}`);
    return state;
  };

  return {
    port,
    ca,
    received,
    refused,
    setBehaviour(name, behaviour) {
      stateOf(name).behaviour = behaviour;
    },
    connectionsFor: (name) => stateOf(name).connections,
    certificateOf(name) {
      const { certificate } = stateOf(name);
      if (!certificate) throw new Error(`remote MX ${name} has no TLS`);
      return certificate;
    },
    waitForMessages(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (received.length < n) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`waited ${timeoutMs} ms for ${n} message(s), got ${received.length}`));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async stop() {
      await Promise.all(states.map(close));
    },
  };
}
