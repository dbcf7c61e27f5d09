/**
 * A raw IMAP client for transcript tests: sends one tagged command at a time and returns
 * every line the server sent up to and including the tagged completion.
 */
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export class ImapTranscript {
  #socket: TLSSocket;
  #buffer = Buffer.alloc(0);
  #tag = 0;
  #waiters: (() => void)[] = [];

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("close", () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<{ client: ImapTranscript; greeting: string }> {
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const client = new ImapTranscript(socket);
    return { client, greeting: await client.#until((text) => /\r\n/.test(text)) };
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /** Sends `tag command` and returns the whole response, tagged line included. */
  async command(command: string): Promise<{ tag: string; lines: string; tagged: string }> {
    const tag = `A${++this.#tag}`;
    this.#socket.write(`${tag} ${command}\r\n`);
    const text = await this.#until((t) => new RegExp(`(^|\\r\\n)${tag} [^\\r\\n]*\\r\\n`).test(t));
    const taggedLine = new RegExp(`(?:^|\\r\\n)(${tag} [^\\r\\n]*)\\r\\n`).exec(text)![1]!;
    return { tag, lines: text, tagged: taggedLine };
  }

  /** Sends raw bytes (for malformed input) and waits for a line matching `until`. */
  async raw(bytes: string, until: RegExp): Promise<string> {
    this.#socket.write(bytes);
    return this.#until((t) => until.test(t));
  }

  async #until(done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.#buffer.toString("latin1");
      if (done(text)) {
        this.#buffer = Buffer.alloc(0);
        return text;
      }
      if (this.#socket.closed) return text;
      if (Date.now() > deadline) throw new Error(`IMAP response incomplete: ${JSON.stringify(text)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}
