/**
 * Recipient resolution (the seed's `local_rewrites`): what an address of ours delivers to. The
 * RCPT-time check (`POST /relay/v1/recipients/check`), the MX delivery (store/inbound.ts), the
 * local copies of a submission and the sender check all resolve through {@link AddressBook}, so
 * they agree on every address.
 *
 * Order, first match wins (contract: "domain settings and aliases"):
 *   0. the domain's report address `<reportLocalPart>@` (contract/reports.ts): mail there is a
 *      DMARC or TLS-RPT report, parsed at delivery (store/inbound.ts), never filed. Only books
 *      made with `{ reports: true }` — the MX's recipient check and delivery — know it; for the
 *      others (submission copies, alias targets, DSNs), which do not parse reports, it is an
 *      ordinary local part, so they never accept mail there only to drop it;
 *   1. an account with exactly this address;
 *   2. an alias: its targets, each resolved again from step 1 (accounts or addresses of ours) or
 *      forwarded (external addresses);
 *   3. an SRS0 address (auth/srs.ts) whose hash verifies and is at most 21 days old: forwarded
 *      back to the original sender (a bounce of mail we forwarded); one that does not verify is
 *      unknown, so forged SRS addresses never make us relay;
 *   4. `postmaster@` (RFC 5321 §4.5.1): the domain's oldest account (a `postmaster` alias was
 *      already taken at step 2); a mirror domain without accounts goes on to step 6; a domain
 *      without any account has no postmaster (unknown_user);
 *   5. plus-addressing: the local part up to the first of the domain's delimiter characters,
 *      resolved again from step 1 (once: `a+b+c` → `a`); "" turns it off;
 *   6. domain alias: `local@mirror` → `local@target`, resolved again from step 1;
 *   7. the domain's catch-all account.
 *
 * Callers may rely on: `resolve` answers foreign_domain for a domain we do not serve,
 * unknown_user when nothing matches or an alias yields nothing deliverable (every target unknown,
 * looping or too deep), else `local` with the canonical address (the account's, or the alias's
 * after rewriting), the account id (null for an alias and a reverse SRS address), the recipient
 * domain's inbound policy (the domain of the address asked about, also for a mirror), the
 * accounts (each once), the forwards (each external address once, with the domain of ours
 * whose alias named it: the SRS domain) and the report domains (each domain whose report address
 * the address reached, once; always empty without `{ reports: true }`). Nothing is cached beyond one AddressBook, which callers
 * create per request, so admin changes apply to the next message.
 */
import { asc, eq, sql } from "drizzle-orm";
import { alias as aliasTable } from "drizzle-orm/sqlite-core";
import { InboundPolicy, type RecipientCheckResult } from "../../../common/contract.ts";
import { srsReverse, type SrsContext } from "../auth/srs.ts";

export type { SrsContext };
import { jsonList, type Db } from "./db.ts";
import { accounts, aliases, domains, mailboxes } from "./schema.ts";

export interface DomainInfo {
  id: number;
  name: string;
  plusDelimiter: string;
  /** Address of the catch-all account. */
  catchAll: string | null;
  /** Name of the domain this one mirrors. */
  aliasOf: string | null;
  inbound: InboundPolicy;
  /** `<this>@<name>` is the report address. */
  reportLocalPart: string;
}

export interface AccountTarget {
  accountId: number;
  address: string;
  domainId: number;
  inboxId: number | null;
  junkId: number | null;
}

/** An external address to forward to, and the domain of ours whose alias named it. */
export interface Forward {
  to: string;
  via: string;
}

export type Resolution =
  | { result: "foreign_domain" }
  | { result: "unknown_user" }
  | {
      result: "local";
      address: string;
      accountId: number | null;
      policy: InboundPolicy;
      accounts: AccountTarget[];
      forwards: Forward[];
      /** Domains whose report address this address is (or leads to). */
      reports: string[];
    };

interface Hit {
  address: string;
  accountId: number | null;
  accounts: AccountTarget[];
  forwards: Forward[];
  reports: string[];
}

/** Rewrites followed for one address (alias hops, plus, domain alias). */
const MAX_DEPTH = 8;
/** Lookups for one address, so an alias fan-out cannot turn one RCPT into thousands of queries. */
const MAX_STEPS = 500;

export class AddressBook {
  readonly #db: Db;
  readonly #srs: SrsContext | undefined;
  readonly #reports: boolean;
  readonly #domains = new Map<string, DomainInfo | null>();
  readonly #accounts = new Map<string, AccountTarget | null>();
  readonly #aliases = new Map<string, string[] | null>();
  readonly #oldest = new Map<number, AccountTarget | null>();

  /**
   * Without `srs`, SRS addresses are ordinary local parts (step 3 is skipped); without
   * `reports: true`, so are report addresses (step 0 is skipped).
   */
  constructor(db: Db, srs?: SrsContext, options: { reports?: boolean } = {}) {
    this.#db = db;
    this.#srs = srs;
    this.#reports = options.reports ?? false;
  }

  async resolve(address: string): Promise<Resolution> {
    const lower = normalize(address);
    const domain = await this.domain(domainOf(lower));
    if (!domain) return { result: "foreign_domain" };
    const hit = await this.#lookup(lower, domain, 0, new Set(), { steps: 0 }, false);
    if (!hit || (hit.accounts.length === 0 && hit.forwards.length === 0 && hit.reports.length === 0)) return { result: "unknown_user" };
    return {
      result: "local",
      address: hit.address,
      accountId: hit.accountId,
      policy: domain.inbound,
      accounts: uniqueBy(hit.accounts, (a) => a.accountId),
      forwards: uniqueBy(hit.forwards, (f) => f.to),
      reports: [...new Set(hit.reports)],
    };
  }

  /**
   * Loads in a few queries what resolving `addresses` will most likely read (their domains and
   * mirror targets, and the accounts and aliases of the addresses, their plus bases and mirrored
   * forms), so a delivery to many recipients does not cost queries per recipient.
   */
  async prefetch(addresses: readonly string[]): Promise<void> {
    const lower = addresses.map(normalize);
    await this.#loadDomains(lower.map(domainOf));
    const mirrors = [...this.#domains.values()].flatMap((d) => (d?.aliasOf ? [d.aliasOf] : []));
    await this.#loadDomains(mirrors);
    const wanted = new Set<string>();
    for (const a of lower) {
      const d = this.#domains.get(domainOf(a));
      if (!d) continue;
      const local = localPart(a);
      const base = plusBase(local, d.plusDelimiter);
      const forms = [local, ...(base !== null ? [base] : [])];
      for (const l of forms) wanted.add(`${l}@${d.name}`);
      const target = d.aliasOf ? this.#domains.get(d.aliasOf) : null;
      if (target) {
        for (const l of forms) wanted.add(`${l}@${target.name}`);
        const targetBase = plusBase(local, target.plusDelimiter);
        if (targetBase !== null) wanted.add(`${targetBase}@${target.name}`);
      }
    }
    await Promise.all([this.#loadAccounts([...wanted]), this.#loadAliases([...wanted])]);
  }

  async domain(name: string): Promise<DomainInfo | null> {
    const key = name.toLowerCase();
    if (!this.#domains.has(key)) await this.#loadDomains([key]);
    return this.#domains.get(key) ?? null;
  }

  async account(address: string): Promise<AccountTarget | null> {
    const key = normalize(address);
    if (!this.#accounts.has(key)) await this.#loadAccounts([key]);
    return this.#accounts.get(key) ?? null;
  }

  async alias(address: string): Promise<string[] | null> {
    const key = normalize(address);
    if (!this.#aliases.has(key)) await this.#loadAliases([key]);
    return this.#aliases.get(key) ?? null;
  }

  async #lookup(address: string, domain: DomainInfo, depth: number, path: ReadonlySet<string>, budget: { steps: number }, plusDone: boolean): Promise<Hit | null> {
    if (depth > MAX_DEPTH || ++budget.steps > MAX_STEPS || path.has(address)) return null;
    const here = new Set(path).add(address);
    const local = localPart(address);

    if (this.#reports && local === domain.reportLocalPart) return { address, accountId: null, accounts: [], forwards: [], reports: [domain.name] };

    const account = await this.account(address);
    if (account) return accountHit(account);

    const targets = await this.alias(address);
    if (targets) {
      await this.prefetch(targets);
      const hit: Hit = { address, accountId: null, accounts: [], forwards: [], reports: [] };
      for (const target of targets) {
        const targetDomain = await this.domain(domainOf(target));
        if (!targetDomain) {
          hit.forwards.push({ to: target, via: domain.name });
          continue;
        }
        const sub = await this.#lookup(target, targetDomain, depth + 1, here, budget, false);
        if (sub) {
          hit.accounts.push(...sub.accounts);
          hit.forwards.push(...sub.forwards);
          hit.reports.push(...sub.reports);
        }
      }
      return hit.accounts.length > 0 || hit.forwards.length > 0 || hit.reports.length > 0 ? hit : null;
    }

    if (this.#srs && local.startsWith("srs0=")) {
      const original = await srsReverse(await this.#srs.key(), address, this.#srs.now);
      if (original === null) return null;
      const originalDomain = await this.domain(domainOf(original));
      if (originalDomain) return this.#lookup(original, originalDomain, depth + 1, here, budget, false);
      return { address, accountId: null, accounts: [], forwards: [{ to: original, via: domain.name }], reports: [] };
    }

    if (local === "postmaster") {
      const oldest = await this.#oldestAccount(domain.id);
      if (oldest) return accountHit(oldest);
      if (!domain.aliasOf) return null;
    }

    if (!plusDone) {
      const base = plusBase(local, domain.plusDelimiter);
      // The base lookup runs this domain's remaining steps (domain alias, catch-all) itself.
      if (base !== null) return this.#lookup(`${base}@${domain.name}`, domain, depth + 1, here, budget, true);
    }

    if (domain.aliasOf) {
      const target = await this.domain(domain.aliasOf);
      if (target) {
        const sub = await this.#lookup(`${local}@${target.name}`, target, depth + 1, here, budget, false);
        if (sub) return sub;
      }
    }

    if (domain.catchAll) {
      const catchAll = await this.account(domain.catchAll);
      if (catchAll) return accountHit(catchAll);
    }
    return null;
  }

  async #loadDomains(names: readonly string[]): Promise<void> {
    const wanted = [...new Set(names.map((n) => n.toLowerCase()))].filter((n) => !this.#domains.has(n));
    if (wanted.length === 0) return;
    const target = aliasTable(domains, "target");
    const rows = await this.#db
      .select({
        id: domains.id,
        name: domains.name,
        plusDelimiter: domains.plusDelimiter,
        inbound: domains.inboundPolicy,
        reportLocalPart: domains.reportLocalPart,
        aliasOf: target.name,
        catchAll: accounts.address,
      })
      .from(domains)
      .leftJoin(target, eq(target.id, domains.aliasOfDomainId))
      .leftJoin(accounts, eq(accounts.id, domains.catchAllAccountId))
      .where(sql`${domains.name} IN (SELECT value FROM json_each(${jsonList(wanted)}))`);
    for (const n of wanted) this.#domains.set(n, null);
    for (const r of rows) this.#domains.set(r.name, { ...r, inbound: InboundPolicy.parse(r.inbound ?? {}) });
  }

  async #loadAccounts(addresses: readonly string[]): Promise<void> {
    const wanted = [...new Set(addresses)].filter((a) => !this.#accounts.has(a));
    if (wanted.length === 0) return;
    const rows = await this.#db
      .select(accountFields)
      .from(accounts)
      .where(sql`${accounts.address} IN (SELECT value FROM json_each(${jsonList(wanted)}))`);
    for (const a of wanted) this.#accounts.set(a, null);
    for (const r of rows) this.#accounts.set(r.address, r);
  }

  async #loadAliases(addresses: readonly string[]): Promise<void> {
    const wanted = [...new Set(addresses)].filter((a) => !this.#aliases.has(a));
    if (wanted.length === 0) return;
    const rows = await this.#db
      .select({ address: aliases.address, targets: aliases.targets })
      .from(aliases)
      .where(sql`${aliases.address} IN (SELECT value FROM json_each(${jsonList(wanted)}))`);
    for (const a of wanted) this.#aliases.set(a, null);
    for (const r of rows) this.#aliases.set(r.address, r.targets);
  }

  async #oldestAccount(domainId: number): Promise<AccountTarget | null> {
    if (!this.#oldest.has(domainId)) {
      const rows = await this.#db.select(accountFields).from(accounts).where(eq(accounts.domainId, domainId)).orderBy(asc(accounts.createdAt), asc(accounts.id)).limit(1);
      this.#oldest.set(domainId, rows[0] ?? null);
    }
    return this.#oldest.get(domainId) ?? null;
  }
}

// Spelled out: drizzle writes columns unqualified in a one-table select, which inside the
// subquery would name the mailbox's own id.
const accountFields = {
  accountId: accounts.id,
  address: accounts.address,
  domainId: accounts.domainId,
  inboxId: sql<number | null>`(SELECT m.id FROM ${mailboxes} AS m WHERE m.account_id = "accounts"."id" AND m.role = 'inbox')`,
  junkId: sql<number | null>`(SELECT m.id FROM ${mailboxes} AS m WHERE m.account_id = "accounts"."id" AND m.role = 'junk')`,
};

/** The MX's RCPT check: the report address is local (accountId null), like an alias. */
export async function checkRecipient(db: Db, address: string, srs?: SrsContext): Promise<RecipientCheckResult> {
  const book = new AddressBook(db, srs, { reports: true });
  await book.prefetch([address]);
  const r = await book.resolve(address);
  if (r.result !== "local") return r;
  return { result: "local", accountId: r.accountId, address: r.address, policy: r.policy };
}

/**
 * Whether `address` is the account's own: its address or one of its plus-addresses (with the
 * domain's delimiters). Aliases, postmaster and the catch-all do not count: receiving mail for an
 * address is no licence to send as it.
 */
export async function ownsAddress(db: Db, accountId: number, address: string): Promise<boolean> {
  const book = new AddressBook(db);
  const lower = normalize(address);
  const exact = await book.account(lower);
  if (exact) return exact.accountId === accountId;
  const domain = await book.domain(domainOf(lower));
  const base = domain ? plusBase(localPart(lower), domain.plusDelimiter) : null;
  const baseAddress = base !== null ? `${base}@${domain!.name}` : null;
  if (baseAddress !== null && (await book.account(baseAddress))?.accountId === accountId) return true;
  // An alias may be used by the accounts it delivers to directly (Postfix's
  // smtpd_sender_login_maps fed from the alias table): team@ → alice, bob lets both send as team@.
  for (const alias of [lower, baseAddress]) {
    if (alias === null || (await book.account(alias))) continue;
    for (const target of (await book.alias(alias)) ?? []) {
      if ((await book.account(target))?.accountId === accountId) return true;
    }
  }
  return false;
}

/** The local part before the first delimiter character, or null when there is none (or it would be empty). */
export function plusBase(local: string, delimiters: string): string | null {
  if (delimiters === "") return null;
  for (let i = 1; i < local.length; i++) if (delimiters.includes(local[i]!)) return local.slice(0, i);
  return null;
}

export function normalize(address: string): string {
  return address.trim().toLowerCase();
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

export function localPart(address: string): string {
  return address.slice(0, address.lastIndexOf("@"));
}

function accountHit(account: AccountTarget): Hit {
  return { address: account.address, accountId: account.accountId, accounts: [account], forwards: [], reports: [] };
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => unknown): T[] {
  const seen = new Set<unknown>();
  return items.filter((i) => (seen.has(key(i)) ? false : (seen.add(key(i)), true)));
}
