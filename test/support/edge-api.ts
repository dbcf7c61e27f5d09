/**
 * Small typed helpers for tests that talk to a real edge (local/edge.ts) over HTTP: one edge per
 * test file, started with fixed tokens, plus request helpers that return status and parsed body
 * instead of throwing, so tests can assert on error answers as easily as on successes.
 */
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { COMPATIBILITY_DATE, startEdge, type RunningEdge } from "../../local/edge.ts";
import type { Account, ApiError, AppendRequest, BlobStored, DeliveryRequest, SearchFields } from "../../common/contract.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const RELAY_KEY = "test-relay-key-0123456789";

export interface TestEdge {
  url: string;
  stop(): Promise<void>;
  /** JSON call under /admin/v1 with the admin token (override with `token`, or `null` for none). */
  admin<T = unknown>(method: string, path: string, body?: unknown, token?: string | null): Promise<Reply<T>>;
  /** JSON call under /relay/v1 with the relay key (override with `token`, or `null` for none). */
  relay<T = unknown>(method: string, path: string, body?: unknown, token?: string | null): Promise<Reply<T>>;
  /** Raw call under /relay/v1 with the relay key, for octet bodies and Range requests. */
  relayRaw(method: string, path: string, init?: { body?: Uint8Array; headers?: Record<string, string> }): Promise<Response>;
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON (undefined for an empty body). */
  body: T;
  /** Set when the answer is an ApiError; lets tests read `reply.error?.code` without casts. */
  error: ApiError["error"] | undefined;
}

export async function startTestEdge(options: { allowFaultInjection?: boolean } = {}): Promise<TestEdge> {
  const edge: RunningEdge = await startEdge({
    port: 0,
    adminToken: ADMIN_TOKEN,
    relayKey: RELAY_KEY,
    allowFaultInjection: options.allowFaultInjection ?? false,
  });
  const json = async <T>(prefix: string, defaultToken: string, method: string, path: string, body?: unknown, token?: string | null) => {
    const headers: Record<string, string> = {};
    const bearer = token === undefined ? defaultToken : token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(edge.url + prefix + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    const error = (parsed as Partial<ApiError> | undefined)?.error;
    return { status: res.status, headers: res.headers, body: parsed as T, error } satisfies Reply<T>;
  };
  return {
    url: edge.url,
    stop: () => edge.stop(),
    admin: (method, path, body, token) => json("/admin/v1", ADMIN_TOKEN, method, path, body, token),
    relay: (method, path, body, token) => json("/relay/v1", RELAY_KEY, method, path, body, token),
    relayRaw: (method, path, init = {}) =>
      fetch(`${edge.url}/relay/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${RELAY_KEY}`, ...init.headers },
        body: init.body,
      }),
  };
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A short RFC 5322 message; `tag` makes its bytes (and so its blob) unique. */
export function sampleMessage(tag: string): Uint8Array {
  const header = `From: sender@remote.test\r\nTo: alice@example.org\r\nSubject: test ${tag}\r\nMessage-ID: <${tag}@remote.test>\r\n\r\n`;
  return new TextEncoder().encode(`${header}Hello ${tag}.\r\nSecond line.\r\n`);
}

/** The index a delivery carries, as a literal: tests must not depend on common/mime. */
export function minimalIndex(raw: Uint8Array): DeliveryRequest["index"] {
  const headerSize = Buffer.from(raw).indexOf("\r\n\r\n") + 4;
  return {
    size: raw.byteLength,
    headerSize,
    envelope: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
    body: { type: "text", subtype: "plain", params: { charset: "us-ascii" }, start: headerSize, end: raw.byteLength },
  } as unknown as DeliveryRequest["index"];
}

/** Uploads `raw` as a blob (PUT blobs/:sha256) and returns what deliveries and appends name it by. */
export async function uploadBlob(edge: TestEdge, raw: Uint8Array): Promise<BlobStored> {
  const sha = sha256Hex(raw);
  const put = await edge.relayRaw("PUT", `/blobs/${sha}`, { body: raw });
  if (put.status !== 200) throw new Error(`blob upload failed: ${put.status} ${await put.text()}`);
  return { key: sha, size: raw.byteLength };
}

/** Uploads `raw` and delivers it to `recipients`; returns the blob digest and the delivery reply. */
export async function deliver(edge: TestEdge, raw: Uint8Array, recipients: string[], idempotencyKey: string, search?: SearchFields) {
  const blob = await uploadBlob(edge, raw);
  const sha = blob.key;
  const request: DeliveryRequest = {
    idempotencyKey,
    blob,
    envelope: { mailFrom: "sender@remote.test", recipients },
    index: minimalIndex(raw),
    ...(search ? { search } : {}),
  };
  return { sha, request, reply: await edge.relay<import("../../common/contract.ts").DeliveryResult>("POST", "/deliveries", request) };
}

/** One message of an APPEND: uploads `raw` first, as the relay does. */
export async function appendMessage(
  edge: TestEdge,
  raw: Uint8Array,
  options: { flags?: string[]; internalDate?: number; search?: SearchFields } = {},
): Promise<AppendRequest["messages"][number]> {
  return { blob: await uploadBlob(edge, raw), index: minimalIndex(raw), ...options };
}

/**
 * Search fields as the relay would compute them (common/mime/search-fields.ts), written by hand:
 * tests must not depend on common/mime. Values are expected already folded (lower case).
 */
export function searchFields(fields: {
  headers?: Record<string, string[]>;
  body?: string;
  sentDate?: string | null;
  sentAt?: number | null;
  sort?: Partial<SearchFields["sort"]>;
  thread?: Partial<SearchFields["thread"]>;
}): SearchFields {
  return {
    headers: fields.headers ?? {},
    body: fields.body ?? "",
    sentDate: fields.sentDate ?? null,
    sentAt: fields.sentAt ?? null,
    sort: { subject: "", from: "", to: "", cc: "", displayFrom: "", displayTo: "", ...fields.sort },
    thread: { messageId: null, inReplyTo: null, references: [], isReply: false, ...fields.thread },
  };
}

/** Creates the domain of the first address (once) and an account per address. */
export async function createAccounts(edge: TestEdge, addresses: string[]): Promise<Account[]> {
  const domain = addresses[0]!.slice(addresses[0]!.indexOf("@") + 1);
  const d = await edge.admin("POST", "/domains", { name: domain });
  if (d.status !== 201 && d.status !== 409) throw new Error(`domain: ${d.status}`);
  const out: Account[] = [];
  for (const address of addresses) {
    const r = await edge.admin<Account>("POST", "/accounts", { address, password: "correct horse battery" });
    if (r.status !== 201) throw new Error(`account ${address}: ${r.status}`);
    out.push(r.body);
  }
  return out;
}

/**
 * GET with a chosen Host header. fetch() may not set Host, so this uses node:http; MTA-STS is
 * chosen by host name (`mta-sts.<domain>`).
 */
export function getWithHost(url: string, path: string, host: string): Promise<{ status: number; contentType: string; text: string }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, headers: { host } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

// ---- submission and the outbound queue ------------------------------------------------

/** Uploads `raw` and submits it as `accountId` (POST accounts/:a/submissions); returns the reply. */
export async function submitMessage(
  edge: TestEdge,
  accountId: number,
  raw: Uint8Array,
  recipients: string[],
  idempotencyKey: string,
  mailFrom = "",
) {
  const request: import("../../common/contract.ts").SubmissionRequest = {
    idempotencyKey,
    blob: await uploadBlob(edge, raw),
    envelope: { mailFrom, recipients },
    index: minimalIndex(raw),
  };
  return edge.relay<import("../../common/contract.ts").SubmissionResult>("POST", `/accounts/${accountId}/submissions`, request);
}

/** POST outbound/lease; throws unless 200. */
export async function leaseOutbound(edge: TestEdge, relayId: string, options: { max?: number; leaseSeconds?: number } = {}) {
  const r = await edge.relay<import("../../common/contract.ts").LeaseResult>("POST", "/outbound/lease", { relayId, ...options });
  if (r.status !== 200) throw new Error(`lease: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.jobs;
}

/** POST outbound/:jobId/result. */
export function reportOutbound(edge: TestEdge, jobId: string, report: import("../../common/contract.ts").DeliveryReport) {
  return edge.relay<import("../../common/contract.ts").DeliveryReportResult>("POST", `/outbound/${jobId}/result`, report);
}

/** Sets the edge's test clock offset (absolute, ms); needs an edge started with fault injection. */
export async function setEdgeClock(edge: TestEdge, offsetMs: number): Promise<void> {
  const r = await edge.admin("POST", "/clock", { offsetMs });
  if (r.status !== 204) throw new Error(`clock: ${r.status}`);
}

// ---- addressing, aliases and received mail --------------------------------------------

/** Uploads `raw` and delivers it with a chosen envelope sender and MX authentication results. */
export async function deliverFrom(
  edge: TestEdge,
  raw: Uint8Array,
  recipients: string[],
  idempotencyKey: string,
  options: { mailFrom?: string; authentication?: import("../../common/contract.ts").InboundAuthentication } = {},
) {
  const request: DeliveryRequest = {
    idempotencyKey,
    blob: await uploadBlob(edge, raw),
    envelope: { mailFrom: options.mailFrom ?? "sender@remote.test", recipients },
    index: minimalIndex(raw),
    ...(options.authentication ? { authentication: options.authentication } : {}),
  };
  return edge.relay<import("../../common/contract.ts").DeliveryResult>("POST", "/deliveries", request);
}

/** Authentication results as the MX would send them: everything passes unless overridden. */
export function authenticationResults(
  overrides: Partial<import("../../common/contract.ts").InboundAuthentication> = {},
): import("../../common/contract.ts").InboundAuthentication {
  return {
    header: "mx.edgemail.test; spf=pass smtp.mailfrom=remote.test; dkim=pass header.d=remote.test; dmarc=pass header.from=remote.test",
    spf: "pass",
    dkim: "pass",
    dmarc: "pass",
    arc: "none",
    iprev: "pass",
    dmarcPolicy: "none",
    dnsbl: [],
    verdict: "accept",
    reasons: [],
    ...overrides,
  };
}

/** POST recipients/check; returns the verdict (throws unless 200). */
export async function checkRecipient(edge: TestEdge, address: string) {
  const r = await edge.relay<import("../../common/contract.ts").RecipientCheckResult>("POST", "/recipients/check", { address });
  if (r.status !== 200) throw new Error(`recipients/check ${address}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** PATCH /admin/v1/domains/:domain; throws unless 200. */
export async function setDomainSettings(edge: TestEdge, domain: string, update: import("../../common/contract.ts").DomainSettingsUpdate) {
  const r = await edge.admin<import("../../common/contract.ts").DomainWithSettings>("PATCH", `/domains/${domain}`, update);
  if (r.status !== 200) throw new Error(`domain settings ${domain}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** POST /admin/v1/aliases; throws unless 201. */
export async function createAlias(edge: TestEdge, address: string, targets: string[]) {
  const r = await edge.admin<import("../../common/contract.ts").Alias>("POST", "/aliases", { address, targets });
  if (r.status !== 201) throw new Error(`alias ${address}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The UIDs in one of the account's mailboxes, by name (SELECT snapshot). */
export async function mailboxUids(edge: TestEdge, accountId: number, name: string): Promise<number[]> {
  const r = await edge.relay<import("../../common/contract.ts").MailboxSnapshot>("POST", `/accounts/${accountId}/mailboxes/select`, { name });
  if (r.status !== 200) throw new Error(`select ${name}: ${r.status}`);
  return r.body.messages.map((m) => m.uid);
}

export type EdgeD1 = Awaited<ReturnType<Miniflare["getD1Database"]>>;

/**
 * Runs `fn` on the D1 database a stopped edge left in `persistDir` (same worker name and database
 * as local/edge.ts), for the states no API can make or the checks no API can show.
 */
export async function withStoppedEdgeD1<T>(persistDir: string, fn: (db: EdgeD1) => Promise<T>): Promise<T> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      resourcePersistencePath: persistDir,
      workers: [
        {
          name: "edgemail",
          modules: true,
          script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
          compatibilityDate: COMPATIBILITY_DATE,
          d1Databases: { DB: "edgemail" },
        },
      ],
    }),
  );
  try {
    return await fn(await mf.getD1Database("DB"));
  } finally {
    await mf.dispose();
  }
}
