/**
 * A raw SMTP client for transcript tests: sends exactly the lines given and returns each
 * reply as the server wrote it, so tests can pin reply codes and enhanced status codes.
 */
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export class SmtpTranscript {
  #socket: Socket;
  #buffer = "";
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("close", () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** `localAddress`: the source address to connect from (e.g. 127.0.0.5, any of 127.0.0.0/8 on Linux). */
  static async open(port: number, localAddress?: string): Promise<{ client: SmtpTranscript; greeting: string }> {
    const socket = connect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new SmtpTranscript(socket);
    return { client, greeting: await client.reply() };
  }

  /** The same over implicit TLS (submission on 465); the test certificate is self-signed. */
  static async openTls(port: number): Promise<{ client: SmtpTranscript; greeting: string }> {
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const client = new SmtpTranscript(socket);
    return { client, greeting: await client.reply() };
  }

  /** Reads one whole (possibly multi-line) reply. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.#buffer);
      if (m) {
        this.#buffer = this.#buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (this.#socket.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.#buffer)}`);
      if (Date.now() > deadline) throw new Error(`no SMTP reply; pending: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async command(line: string): Promise<string> {
    this.#socket.write(line + "\r\n");
    return this.reply();
  }

  /** Sends message data after a 354, dot-stuffed, and returns the final reply. */
  async data(message: string | Buffer): Promise<string> {
    const text = Buffer.isBuffer(message) ? message.toString("latin1") : message;
    const stuffed = text.replace(/^\./gm, "..").replace(/(\r\n)?$/, "\r\n");
    this.#socket.write(Buffer.from(stuffed + ".\r\n", "latin1"));
    return this.reply(30_000);
  }

  close(): void {
    this.#socket.destroy();
  }
}
