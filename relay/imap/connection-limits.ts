/**
 * Connection counts shared by every IMAP listener of this relay: per client IP (a flood from
 * one address must not starve everyone else) and per account (a misbehaving client that
 * reconnects in a loop must not exhaust the edge). In-memory on purpose: losing the counts
 * with the relay loses nothing that matters.
 */
export class ConnectionLimiter {
  readonly #perIp = new Map<string, number>();
  readonly #perAccount = new Map<number, number>();
  readonly #maxPerIp: number;
  readonly #maxPerAccount: number;

  constructor(limits: { maxConnectionsPerIp: number; maxConnectionsPerAccount: number }) {
    this.#maxPerIp = limits.maxConnectionsPerIp;
    this.#maxPerAccount = limits.maxConnectionsPerAccount;
  }

  /** Counts a new connection from `ip`; false (and nothing counted) when it is one too many. */
  openFromIp(ip: string): boolean {
    return take(this.#perIp, ip, this.#maxPerIp);
  }

  closeFromIp(ip: string): void {
    give(this.#perIp, ip);
  }

  loginTo(accountId: number): boolean {
    return take(this.#perAccount, accountId, this.#maxPerAccount);
  }

  logoutFrom(accountId: number): void {
    give(this.#perAccount, accountId);
  }
}

function take<K>(counts: Map<K, number>, key: K, max: number): boolean {
  const n = counts.get(key) ?? 0;
  if (n >= max) return false;
  counts.set(key, n + 1);
  return true;
}

function give<K>(counts: Map<K, number>, key: K): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

/**
 * A token bucket for commands per connection: bursts (a client replaying a queue of flag
 * changes) are fine, a sustained flood is answered with NO [LIMIT].
 */
export class CommandRate {
  #tokens: number;
  #last = Date.now();
  readonly #burst: number;
  readonly #perSecond: number;

  constructor(burst: number, perSecond: number) {
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#tokens = burst;
  }

  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
