/**
 * Open SMTP sessions kept for a few seconds after a transaction, so the next job for the same
 * destination reuses the session instead of paying for TCP, the greeting, EHLO and STARTTLS
 * again (Postfix's connection cache, smtp_connection_cache_time_limit).
 *
 * Callers may rely on: a session is only handed back for the same key (address, MX name and
 * destination domain, so the TLS policy that admitted it is the one that applies again); a
 * session the server closed is never handed out; idle sessions are QUIT after `idleMs`, and
 * `closeAll()` ends every one at once.
 */
import type SMTPConnection from "nodemailer/lib/smtp-connection";

interface Idle {
  conn: SMTPConnection;
  timer: NodeJS.Timeout;
}

export class SmtpConnectionCache {
  readonly #idleMs: number;
  readonly #maxPerKey: number;
  readonly #idle = new Map<string, Idle[]>();

  constructor(idleMs = 5_000, maxPerKey = 4) {
    this.#idleMs = idleMs;
    this.#maxPerKey = maxPerKey;
  }

  take(key: string): SMTPConnection | undefined {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      clearTimeout(entry.timer);
      if (isOpen(entry.conn)) return entry.conn;
    }
    this.#idle.delete(key);
    return undefined;
  }

  give(key: string, conn: SMTPConnection): void {
    const list = this.#idle.get(key) ?? [];
    if (list.length >= this.#maxPerKey || !isOpen(conn)) {
      conn.quit();
      return;
    }
    const entry: Idle = {
      conn,
      timer: setTimeout(() => {
        const index = list.indexOf(entry);
        if (index >= 0) list.splice(index, 1);
        conn.quit();
      }, this.#idleMs).unref(),
    };
    list.push(entry);
    this.#idle.set(key, list);
  }

  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        entry.conn.quit();
      }
    }
    this.#idle.clear();
  }
}

function isOpen(conn: SMTPConnection): boolean {
  // nodemailer marks a session the server ended as destroyed; it has no public flag for it.
  return !(conn as unknown as { _destroyed?: boolean; _closing?: boolean })._destroyed && !(conn as unknown as { _closing?: boolean })._closing;
}
