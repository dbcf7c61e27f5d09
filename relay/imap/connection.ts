/**
 * One IMAP connection: owns the socket, feeds bytes to the command reader, pulls one command
 * at a time and finishes it before reading the next (so pipelined bytes are read in the mode
 * the previous command left: AUTHENTICATE lines, STARTTLS discard), and writes responses with
 * backpressure. It knows nothing of storage beyond handing the MailStore to commands.
 */
import { Socket } from "node:net";
import { TLSSocket, type SecureContext } from "node:tls";
import type { Readable } from "node:stream";
import { once } from "node:events";
import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw } from "node:zlib";
import { EdgeError } from "../edge/errors.ts";
import { commandTable } from "./commands/index.ts";
import { mailboxCapabilities } from "./commands/mailbox-commands.ts";
import { messageCapabilities } from "./commands/message-commands.ts";
import type { ChangeFeed } from "./change-feed.ts";
import { CommandRate, type ConnectionLimiter } from "./connection-limits.ts";
import type { ImapLimits } from "./limits.ts";
import type { MailStore } from "./mail-store.ts";
import { CommandReader, type ReaderEvent } from "./protocol/reader.ts";
import { Args, parseCommand } from "./protocol/parser.ts";
import { ImapProtocolError } from "./protocol/errors.ts";
import { tagged, untagged, continuation } from "./protocol/writer.ts";
import { stateNames, type SessionState } from "./session.ts";

export interface ConnectionOptions {
  store: MailStore;
  limits: ImapLimits;
  /** Current TLS context, for STARTTLS (read at upgrade time so a reloaded cert is used). */
  secureContext: () => SecureContext;
  /** True when the socket is already TLS (port 993). */
  implicitTls: boolean;
  /** Mailbox changes made through this relay, for IDLE and change reporting. */
  changes: ChangeFeed;
  limiter: ConnectionLimiter;
  log?: (line: string) => void;
}

export class ImapConnection {
  state: SessionState = { kind: "notAuthenticated" };
  /** Extensions the client turned on with ENABLE (RFC 5161), upper-case: CONDSTORE, QRESYNC, IMAP4REV2, UTF8=ACCEPT. */
  readonly enabled = new Set<string>();
  readonly store: MailStore;
  readonly changes: ChangeFeed;
  readonly limits: ImapLimits;
  readonly remoteAddress: string;
  authFailures = 0;
  readonly limiter: ConnectionLimiter;
  #rate: CommandRate;
  /** The account this connection holds a login slot of, released on close. */
  #loggedInAccount: number | null = null;
  #socket: Socket;
  /** Set once COMPRESS=DEFLATE is active (RFC 4978): every write goes through it. */
  #deflate: DeflateRaw | null = null;
  #flushScheduled = false;
  #secure: boolean;
  #reader: CommandReader;
  #dataWaiter: (() => void) | null = null;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #options: ConnectionOptions;
  readonly #onData = (chunk: Buffer) => this.#receive(chunk);

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#options = options;
    this.store = options.store;
    this.changes = options.changes;
    this.limiter = options.limiter;
    this.#rate = new CommandRate(options.limits.commandBurst, options.limits.commandsPerSecond);
    this.limits = options.limits;
    this.#socket = socket;
    this.#secure = options.implicitTls;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.#reader = new CommandReader({
      maxLineLength: options.limits.maxLineLength,
      maxLiteralSize: options.limits.maxLiteralSize,
      maxCommandSize: options.limits.maxCommandSize,
    });
    this.#attach(socket);
  }

  get secure(): boolean {
    return this.#secure;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    void this.send(untagged(`OK [CAPABILITY ${this.capabilities().join(" ")}] edgemail ready.`));
    this.#armIdleTimer();
    void this.#run();
  }

  capabilities(): string[] {
    const caps = ["IMAP4rev1", "IMAP4rev2"];
    if (this.state.kind === "notAuthenticated") {
      if (!this.#secure) caps.push("STARTTLS", "LOGINDISABLED");
      else caps.push("AUTH=PLAIN", "AUTH=LOGIN", "SASL-IR");
    } else {
      caps.push("SASL-IR", "SPECIAL-USE", ...mailboxCapabilities, ...messageCapabilities);
      // The limit is configuration, so the table lists the bare name and the number goes here (RFC 7889).
      const appendLimit = caps.indexOf("APPENDLIMIT");
      if (appendLimit >= 0) caps[appendLimit] = `APPENDLIMIT=${this.limits.maxLiteralSize}`;
      if (!this.compressed) caps.push("COMPRESS=DEFLATE");
    }
    return caps;
  }

  /** Writes bytes, waiting while the socket's buffer is full. */
  async send(data: Buffer | string): Promise<void> {
    if (this.#closed) return;
    const deflate = this.#deflate;
    if (deflate) {
      const ok = deflate.write(data);
      this.#scheduleFlush(deflate);
      if (!ok) await this.#drained(deflate);
      return;
    }
    if (!this.#socket.write(data)) await this.#drained();
  }

  get compressed(): boolean {
    return this.#deflate !== null;
  }

  /**
   * COMPRESS DEFLATE: from now on both directions are raw deflate streams. Called after the
   * tagged OK went out uncompressed; the client sends nothing in between (RFC 4978 §3).
   */
  startCompression(): void {
    this.#reader.discardBuffered();
    const socket = this.#socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    socket.off("data", this.#onData);
    socket.on("data", (chunk: Buffer) => inflate.write(chunk));
    inflate.on("data", this.#onData);
    const broken = (err: Error) => {
      this.#options.log?.(`imap compression failed for ${this.remoteAddress}: ${err.message}`);
      this.#closed = true;
      this.#wake();
      socket.destroy();
    };
    inflate.on("error", broken);
    deflate.on("error", broken);
    deflate.pipe(socket, { end: false });
    this.#deflate = deflate;
  }

  /** Flushes once per turn of the event loop, so a burst of writes shares one sync flush. */
  #scheduleFlush(deflate: DeflateRaw): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (!this.#closed) deflate.flush(zlibConstants.Z_SYNC_FLUSH);
    });
  }

  /** Copies exactly `length` octets from a stream; a short stream breaks the connection. */
  async sendStream(stream: Readable, length: number): Promise<void> {
    let sent = 0;
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      const room = length - sent;
      if (room <= 0) break;
      const part = buf.length > room ? buf.subarray(0, room) : buf;
      sent += part.length;
      await this.send(part);
    }
    if (sent !== length) {
      stream.destroy();
      throw new Error(`message stream ended after ${sent} of ${length} octets`);
    }
  }

  /** For AUTHENTICATE: sends a continuation and waits for the client's next raw line (null if closed). */
  async readLine(prompt: string): Promise<Buffer | null> {
    this.#reader.setLineMode(true);
    await this.send(continuation(prompt));
    try {
      while (!this.#closed) {
        const event = this.#reader.next();
        if (event?.kind === "line") return event.bytes;
        if (event) continue; // nothing else can arrive in line mode
        if (this.#reader.closed) return null;
        await this.#waitForData();
      }
      return null;
    } finally {
      this.#reader.setLineMode(false);
    }
  }

  /** STARTTLS: drop anything pipelined after the command and continue over TLS (RFC 9051 §6.2.1). */
  async upgradeToTls(): Promise<void> {
    this.#reader.discardBuffered();
    const plain = this.#socket;
    plain.off("data", this.#onData);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.#options.secureContext() });
    this.#socket = secure;
    this.#secure = true;
    this.#attach(secure);
  }

  /** Takes one of the account's login slots for this connection; false when none is left. */
  claimLoginSlot(accountId: number): boolean {
    if (!this.limiter.loginTo(accountId)) return false;
    this.#loggedInAccount = accountId;
    return true;
  }

  #releaseLoginSlot(): void {
    if (this.#loggedInAccount === null) return;
    this.limiter.logoutFrom(this.#loggedInAccount);
    this.#loggedInAccount = null;
  }

  close(): void {
    this.#releaseLoginSlot();
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#wake();
    const deflate = this.#deflate;
    if (deflate) {
      deflate.end(() => this.#socket.end());
      return;
    }
    this.#socket.end();
  }

  #attach(socket: Socket): void {
    socket.on("data", this.#onData);
    socket.on("error", (err) => {
      this.#options.log?.(`imap socket error from ${this.remoteAddress}: ${err.message}`);
      this.#closed = true;
      this.#wake();
      socket.destroy();
    });
    socket.on("close", () => {
      this.#releaseLoginSlot();
      this.#closed = true;
      clearTimeout(this.#idleTimer);
      this.#wake();
    });
  }

  /**
   * Waits until `stream` (the socket, or the deflate stream in front of it) drains or the socket
   * closes — and removes both listeners either way, so a long FETCH that hits backpressure
   * thousands of times does not pile listeners up on the socket.
   */
  async #drained(stream: NodeJS.EventEmitter = this.#socket): Promise<void> {
    const done = new AbortController();
    const wait = (emitter: NodeJS.EventEmitter, event: string) =>
      once(emitter, event, { signal: done.signal }).then(
        () => {},
        () => {},
      );
    await Promise.race([wait(stream, "drain"), wait(this.#socket, "close")]);
    done.abort();
  }


  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    const ms = this.state.kind === "notAuthenticated" ? this.limits.preAuthTimeoutMs : this.limits.idleTimeoutMs;
    this.#idleTimer = setTimeout(() => {
      void this.send(untagged("BYE Idle for too long, closing.")).finally(() => this.close());
    }, ms);
    this.#idleTimer.unref();
  }

  #receive(chunk: Buffer): void {
    this.#armIdleTimer();
    this.#reader.feed(chunk);
    this.#wake();
  }

  #wake(): void {
    const resolve = this.#dataWaiter;
    this.#dataWaiter = null;
    resolve?.();
  }

  #waitForData(): Promise<void> {
    return new Promise((resolve) => (this.#dataWaiter = resolve));
  }

  /**
   * Pulls one event at a time and finishes it before pulling the next, so bytes pipelined
   * behind AUTHENTICATE, IDLE or STARTTLS are read in the mode that command leaves behind.
   */
  async #run(): Promise<void> {
    while (!this.#closed) {
      const event = this.#reader.next();
      if (!event) {
        if (this.#reader.closed) return this.close();
        await this.#waitForData();
        continue;
      }
      if (event.kind === "continue") {
        await this.send(continuation("Ready for literal data"));
        continue;
      }
      try {
        await this.#handle(event);
      } catch (err) {
        this.#options.log?.(`imap connection failed: ${err instanceof Error ? err.stack : String(err)}`);
        this.close();
      }
    }
  }

  async #handle(event: ReaderEvent): Promise<void> {
    if (event.kind === "error") {
      await this.send(event.tag ? tagged(event.tag, "BAD", event.text, event.code) : untagged(`BAD ${event.text}`));
      if (event.fatal) this.close();
      return;
    }
    if (event.kind !== "command") return;
    let tag: string | null = null;
    try {
      const parsed = parseCommand(event.bytes);
      tag = parsed.tag;
      const byUid = parsed.name.startsWith("UID ");
      if (!this.#rate.take()) {
        throw new ImapProtocolError("NO", "Too many commands, slow down", { code: "LIMIT" });
      }
      const spec = commandTable[parsed.name];
      if (!spec) throw new ImapProtocolError("BAD", `Unknown command ${parsed.name.slice(0, 40)}`);
      if (!spec.states.includes(this.state.kind)) {
        throw new ImapProtocolError("BAD", `${parsed.name} is not valid in the ${stateNames[this.state.kind]} state`);
      }
      const result = await spec.run({ tag, name: parsed.name, args: new Args(parsed.args), byUid, conn: this });
      await this.send(tagged(tag, "OK", result.text, result.code ?? null));
      await result.after?.();
    } catch (err) {
      await this.#fail(tag, err);
    } finally {
      this.#armIdleTimer();
    }
  }

  async #fail(tag: string | null, err: unknown): Promise<void> {
    let status: "NO" | "BAD" = "NO";
    let code: string | null = null;
    let text: string;
    if (err instanceof ImapProtocolError) {
      status = err.status;
      code = err.code;
      text = err.text;
      tag ??= err.tag;
    } else if (err instanceof EdgeError) {
      if (err.code === "no_such_mailbox" || err.code === "not_found") {
        code = "NONEXISTENT";
        text = "Mailbox does not exist";
      } else if (err.code === "auth_failed") {
        code = "AUTHENTICATIONFAILED";
        text = "Authentication failed.";
      } else if (err.code === "over_quota") {
        code = "OVERQUOTA";
        text = "Quota exceeded";
      } else if (err.temporary) {
        code = "UNAVAILABLE";
        text = "Storage is unavailable, try again later";
      } else {
        code = err.imap ?? "SERVERBUG";
        text = "The command failed";
      }
      this.#options.log?.(`imap command failed: ${err.message}`);
    } else {
      // A half-written response (a literal cut short) cannot be repaired: end the connection.
      this.#options.log?.(`imap internal error: ${err instanceof Error ? err.stack : String(err)}`);
      code = "SERVERBUG";
      text = "Internal error";
      await this.send(tag ? tagged(tag, "NO", text, code) : untagged(`BAD ${text}`));
      this.close();
      return;
    }
    await this.send(tag ? tagged(tag, status, text, code) : untagged(`BAD ${text}`));
  }
}
