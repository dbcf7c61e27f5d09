/**
 * The relay's one client of the edge API (DESIGN.md §3). Nothing else in the relay knows a
 * URL or a header of the edge.
 *
 * Callers may rely on: every response is validated against common/contract.ts before it is
 * returned; every failure is an {@link EdgeError} whose `temporary` flag says whether a
 * retry may succeed. Timeouts, refused connections and 5xx answers are temporary, so SMTP
 * maps them to `451 4.3.0` and IMAP to `NO [UNAVAILABLE]`.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { z } from "zod";
import { z as zod } from "zod";
import {
  ApiError,
  AppendResult,
  AuthResult,
  BlobStored,
  ChangesResult,
  CopyResult,
  ExpungeResult,
  Mailbox,
  QuotaResult,
  SearchResult,
  StatusResult,
  SubscriptionList,
  DeliveryResult,
  DeliveryReportResult,
  DkimSigningKeys,
  FetchResult,
  LeaseResult,
  MailboxList,
  MailboxSnapshot,
  RecipientCheckResult,
  RELAY_API_PREFIX,
  SenderCheckResult,
  SubmissionResult,
  StoreFlagsResult,
  type AppendRequest,
  type AuthRequest,
  type CopyRequest,
  type CreateMailboxRequest,
  type SearchRequest,
  type DeliveryRequest,
  type DeliveryReport,
  type LeaseRequest,
  type ErrorCode,
  type StoreFlagsRequest,
  type SubmissionRequest,
} from "../../common/contract.ts";
import { EdgeError } from "./errors.ts";

export interface EdgeClientOptions {
  url: string;
  relayKey: string;
  /** Per request; a slow edge must turn into a temporary failure, never a hung SMTP session. */
  timeoutMs: number;
  /** How long a successful password check is trusted without asking the edge again. */
  authCacheMs?: number;
}

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

const Empty = zod.object({}).passthrough();
/** POST calls that change nothing at the edge (every GET is a read). */
const READ_ONLY = /\/(select|status|changes|fetch|search|recipients\/check|senders\/check|auth)$/;

export class EdgeClient {
  readonly #base: string;
  readonly #relayKey: string;
  readonly #timeoutMs: number;
  readonly #authCacheMs: number;
  /** What this client asked of the edge so far: for metrics, benchmarks and tests. */
  readonly stats = { requests: 0, rawReads: 0, writes: 0 };
  /** Positive auth results keyed by a hash of user and secret (never the secret itself). */
  readonly #authCache = new Map<string, { result: AuthResult; expires: number }>();

  constructor(options: EdgeClientOptions) {
    this.#base = options.url.replace(/\/+$/, "") + RELAY_API_PREFIX;
    this.#relayKey = options.relayKey;
    this.#timeoutMs = options.timeoutMs;
    this.#authCacheMs = options.authCacheMs ?? 60_000;
  }

  putBlob(sha256: string, raw: Uint8Array): Promise<BlobStored> {
    return this.#call("PUT", `/blobs/${sha256}`, BlobStored, {
      body: raw,
      contentType: "message/rfc822",
    });
  }

  deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    return this.#call("POST", "/deliveries", DeliveryResult, { json: request });
  }

  checkRecipient(address: string): Promise<RecipientCheckResult> {
    return this.#call("POST", "/recipients/check", RecipientCheckResult, { json: { address } });
  }

  /** May the account use `address` as MAIL FROM or in the From header (RFC 6409 §4.3)? */
  checkSender(accountId: number, address: string): Promise<SenderCheckResult> {
    return this.#call("POST", `/accounts/${accountId}/senders/check`, SenderCheckResult, { json: { address } });
  }

  /** Stores a submitted message (blob already put) and queues it; idempotent by `idempotencyKey`. */
  submit(accountId: number, request: SubmissionRequest): Promise<SubmissionResult> {
    return this.#call("POST", `/accounts/${accountId}/submissions`, SubmissionResult, { json: request });
  }

  async authenticate(request: AuthRequest): Promise<AuthResult> {
    const cacheKey = createHash("sha256")
      .update(request.username.toLowerCase())
      .update("\0")
      .update(request.password)
      .digest("base64");
    const cached = this.#authCache.get(cacheKey);
    if (cached && cached.expires > Date.now()) return cached.result;
    const result = await this.#call("POST", "/auth", AuthResult, { json: request });
    this.#authCache.set(cacheKey, { result, expires: Date.now() + this.#authCacheMs });
    return result;
  }

  listMailboxes(accountId: number): Promise<MailboxList> {
    return this.#call("GET", `/accounts/${accountId}/mailboxes`, MailboxList);
  }

  selectMailbox(accountId: number, name: string, claimRecent = false): Promise<MailboxSnapshot> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/select`, MailboxSnapshot, {
      json: { name, claimRecent },
    });
  }

  createMailbox(accountId: number, request: CreateMailboxRequest): Promise<Mailbox> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes`, Mailbox, { json: request });
  }

  async deleteMailbox(accountId: number, name: string): Promise<void> {
    await this.#call("POST", `/accounts/${accountId}/mailboxes/delete`, Empty, { json: { name } });
  }

  async renameMailbox(accountId: number, from: string, to: string): Promise<void> {
    await this.#call("POST", `/accounts/${accountId}/mailboxes/rename`, Empty, { json: { from, to } });
  }

  async subscribe(accountId: number, name: string, subscribed: boolean): Promise<void> {
    await this.#call("POST", `/accounts/${accountId}/mailboxes/subscribe`, Empty, { json: { name, subscribed } });
  }

  listSubscriptions(accountId: number): Promise<SubscriptionList> {
    return this.#call("GET", `/accounts/${accountId}/subscriptions`, SubscriptionList);
  }

  /** Without names: every mailbox of the account. */
  mailboxStatus(accountId: number, names?: string[]): Promise<StatusResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/status`, StatusResult, {
      json: names ? { names } : {},
    });
  }

  changes(accountId: number, mailboxId: number, sinceModseq: number): Promise<ChangesResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/changes`, ChangesResult, {
      json: { sinceModseq },
    });
  }

  expunge(accountId: number, mailboxId: number, uids?: number[]): Promise<ExpungeResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/expunge`, ExpungeResult, {
      json: uids ? { uids } : {},
    });
  }

  copyMessages(accountId: number, mailboxId: number, request: CopyRequest): Promise<CopyResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/copy`, CopyResult, {
      json: request,
    });
  }

  append(accountId: number, request: AppendRequest): Promise<AppendResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/append`, AppendResult, { json: request });
  }

  search(accountId: number, mailboxId: number, request: SearchRequest): Promise<SearchResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/search`, SearchResult, {
      json: request,
    });
  }

  quota(accountId: number): Promise<QuotaResult> {
    return this.#call("GET", `/accounts/${accountId}/quota`, QuotaResult);
  }

  /** With `sinceModseq`, the answer's `changes` is the changes feed since it, read after the fetch (one round trip). */
  fetchMessages(accountId: number, mailboxId: number, uids: number[], sinceModseq?: number): Promise<FetchResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/fetch`, FetchResult, {
      json: sinceModseq === undefined ? { uids } : { uids, sinceModseq },
    });
  }

  storeFlags(accountId: number, mailboxId: number, request: StoreFlagsRequest): Promise<StoreFlagsResult> {
    return this.#call("POST", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/flags`, StoreFlagsResult, {
      json: request,
    });
  }

  /** Due outbound jobs, each this relay's until its `leaseExpiresAt`. */
  leaseOutbound(request: LeaseRequest): Promise<LeaseResult> {
    return this.#call("POST", "/outbound/lease", LeaseResult, { json: request });
  }

  /** The octets of a leased job's message; 409 conflict once the lease is no longer ours. */
  async readOutboundMessage(jobId: string, leaseToken: string): Promise<Buffer> {
    const response = await this.#send("GET", `/outbound/${jobId}/raw?lease=${encodeURIComponent(leaseToken)}`, {});
    return Buffer.from(await response.arrayBuffer());
  }

  reportDelivery(jobId: string, report: DeliveryReport): Promise<DeliveryReportResult> {
    return this.#call("POST", `/outbound/${jobId}/result`, DeliveryReportResult, { json: report });
  }

  /** The domain's DKIM private keys: held in memory only, never written to the relay's disk. */
  dkimSigningKeys(domain: string): Promise<DkimSigningKeys> {
    return this.#call("GET", `/domains/${encodeURIComponent(domain)}/dkim`, DkimSigningKeys);
  }

  /** Streams a message's raw octets, or only `range` of them, without buffering the message. */
  async openMessage(accountId: number, mailboxId: number, uid: number, range?: ByteRange): Promise<Readable> {
    const headers: Record<string, string> = {};
    if (range) {
      if (range.end <= range.start) return Readable.from([]);
      headers.range = `bytes=${range.start}-${range.end - 1}`;
    }
    const response = await this.#send("GET", `/accounts/${accountId}/mailboxes/${mailboxId}/messages/${uid}/raw`, {
      headers,
    });
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  }

  /** Reads a whole (small) byte range into memory: for header blocks, never for bodies. */
  async readMessageRange(accountId: number, mailboxId: number, uid: number, range: ByteRange): Promise<Buffer> {
    const stream = await this.openMessage(accountId, mailboxId, uid, range);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async #call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: { json?: unknown; body?: Uint8Array; contentType?: string } = {},
  ): Promise<z.output<S>> {
    const response = await this.#send(method, path, options);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new EdgeError("internal", true, `edge sent a non-JSON answer to ${method} ${path}`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new EdgeError("internal", true, `edge answer to ${method} ${path} broke the contract: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  async #send(
    method: string,
    path: string,
    options: { json?: unknown; body?: Uint8Array; contentType?: string; headers?: Record<string, string> },
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#relayKey}`, ...options.headers };
    this.stats.requests++;
    if (/\/raw(\?|$)/.test(path)) this.stats.rawReads++;
    else if (method !== "GET" && !READ_ONLY.test(path)) this.stats.writes++;
    let body: RequestInit["body"];
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers["content-type"] = options.contentType ?? "application/octet-stream";
      body = options.body;
    }
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === "TimeoutError" ? "timed out" : "unreachable";
      throw new EdgeError("unavailable", true, `edge ${reason} on ${method} ${path}`, { cause: err });
    }
    if (response.ok) return response;
    throw await errorFromResponse(response, `${method} ${path}`);
  }
}

async function errorFromResponse(response: Response, what: string): Promise<EdgeError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const parsed = ApiError.safeParse(body);
  if (parsed.success) {
    const e = parsed.data.error;
    return new EdgeError(e.code, e.temporary, e.message, { smtp: e.smtp, imap: e.imap, status: response.status });
  }
  const code: ErrorCode = response.status >= 500 ? "unavailable" : "internal";
  return new EdgeError(code, true, `edge answered ${response.status} to ${what}`, { status: response.status });
}
