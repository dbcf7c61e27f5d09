/**
 * The D1 schema (DESIGN.md §4), the one source the migrations in `migrations/` are generated from
 * (`npx drizzle-kit generate`; review the SQL, never edit a released migration).
 *
 * Callers may rely on: addresses and domain names are stored lower-case (CHECK constraints);
 * every message row carries its account id so every query can scope by account; IMAP state
 * (uidvalidity, uidnext, highestmodseq, uid, modseq, flags) lives in columns, never in the relay;
 * `blob_key` is the full R2 key (`blobs/<sha256>`) of the raw message; times are ms since the epoch
 * except `uidvalidity`, which IMAP wants as a 32-bit number (seconds since the epoch at creation).
 * Body text for BODY/TEXT search lives in the FTS5 table `messages_fts` (rowid = messages.id),
 * which drizzle cannot express: it and the trigger that deletes its rows with their message are
 * created by the custom migration `0002_search_fts.sql`.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex, type AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { z } from "zod";
import type { InboundAuthentication, InboundPolicy } from "../../../common/contract.ts";

export const MTA_STS_MODES = ["enforce", "testing", "none"] as const;
export const MAILBOX_ROLES = ["inbox", "sent", "drafts", "junk", "trash", "archive"] as const;

export const domains = sqliteTable(
  "domains",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull().unique(),
    /** null: no MTA-STS policy is published for this domain. */
    mtaStsMode: text("mta_sts_mode", { enum: MTA_STS_MODES }),
    /** null: the policy's mx lines follow `mx_hosts`. */
    mtaStsMx: text("mta_sts_mx", { mode: "json" }).$type<string[]>(),
    mtaStsMaxAge: integer("mta_sts_max_age"),
    // DNS, MTA-STS and autoconfig (store/dns-records.ts, routes/autoconfig.ts); the policy id is a
    // digest of the policy text, so it is not stored and changes exactly when the text does.
    /** The relay's host names, MX preference order; the first is also what mail clients connect to. null: `mail.<name>`. */
    mxHosts: text("mx_hosts", { mode: "json" }).$type<string[]>(),
    /** The relays' public addresses for SPF (`ip4:`/`ip6:`); null: SPF says `mx`. */
    relayIps: text("relay_ips", { mode: "json" }).$type<string[]>(),
    /** `<this>@<name>` takes DMARC and TLS-RPT reports (the rua of both records). */
    reportLocalPart: text("report_local_part").notNull().default("reports"),
    createdAt: integer("created_at").notNull(),
    // Addressing and inbound policy (store/addressing.ts, contract DomainSettings).
    /** Each character is a delimiter (`user+tag@`, like Postfix recipient_delimiter); "" = off. */
    plusDelimiter: text("plus_delimiter").notNull().default("+"),
    /** The account that takes mail for unknown local parts; null = unknown users get 550 5.1.1. */
    catchAllAccountId: integer("catch_all_account_id").references((): AnySQLiteColumn => accounts.id, { onDelete: "set null" }),
    /** This domain mirrors that one (`user@this` → `user@that`); never itself a mirror (no chains). */
    aliasOfDomainId: integer("alias_of_domain_id").references((): AnySQLiteColumn => domains.id, { onDelete: "set null" }),
    /**
     * The contract's InboundPolicy as stored; read through InboundPolicy.parse, so a check added to
     * the contract later gets its default on rows written before it existed.
     */
    inboundPolicy: text("inbound_policy", { mode: "json" })
      .$type<Partial<InboundPolicy>>()
      .notNull()
      .default(sql`'{}'`),
  },
  (t) => [
    check("domains_name_lower", sql`${t.name} = lower(${t.name})`),
    check("domains_mta_sts_mode", sql`${t.mtaStsMode} IS NULL OR ${t.mtaStsMode} IN ('enforce', 'testing', 'none')`),
  ],
);

export const accounts = sqliteTable(
  "accounts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id),
    address: text("address").notNull().unique(),
    passwordHash: text("password_hash").notNull(),
    /** Storage limit in octets (sum of message sizes); null = unlimited. */
    quotaBytes: integer("quota_bytes"),
    /**
     * The UIDVALIDITY last handed to one of this account's mailboxes. New mailboxes take
     * max(now in seconds, this + 1), so a name deleted and re-created within one second still
     * gets a new UIDVALIDITY (RFC 9051 §2.3.1.1).
     */
    lastUidvalidity: integer("last_uidvalidity").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [check("accounts_address_lower", sql`${t.address} = lower(${t.address})`)],
);

export const mailboxes = sqliteTable(
  "mailboxes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role", { enum: MAILBOX_ROLES }),
    uidvalidity: integer("uidvalidity").notNull(),
    uidnext: integer("uidnext").notNull().default(1),
    highestmodseq: integer("highestmodseq").notNull().default(1),
    /** UIDs >= this are \Recent; SELECT (not EXAMINE) moves it to uidnext (RFC 3501 §2.3.2). */
    recentUid: integer("recent_uid").notNull().default(1),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("mailboxes_account_name").on(t.accountId, t.name),
    // One mailbox per SPECIAL-USE role per account; the partial index lets any number have none.
    uniqueIndex("mailboxes_account_role").on(t.accountId, t.role).where(sql`role IS NOT NULL`),
    check(
      "mailboxes_role",
      sql`${t.role} IS NULL OR ${t.role} IN ('inbox', 'sent', 'drafts', 'junk', 'trash', 'archive')`,
    ),
  ],
);

/**
 * One row per ingest call (store/ingest.ts). `recipients` is set only for mail received through
 * `POST /relay/v1/deliveries` (the MX), which is what the admin's delivery list shows; `copies` and
 * `forwarded` record where the message went when it was accepted, so they survive an expunge.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    blobKey: text("blob_key").notNull(),
    mailFrom: text("mail_from").notNull(),
    createdAt: integer("created_at").notNull(),
    /** The envelope recipients as received (lower case); null for APPEND, submission copies, DSNs. */
    recipients: text("recipients", { mode: "json" }).$type<string[]>(),
    /** The MX's authentication results (contract InboundAuthentication, defaults applied). */
    authentication: text("authentication", { mode: "json" }).$type<z.output<typeof InboundAuthentication>>(),
    /** Every copy stored: the envelope recipient that produced it and where it went. Null before 0006. */
    copies: text("copies", { mode: "json" }).$type<DeliveryCopy[]>(),
    /** External alias targets queued for forwarding. */
    forwarded: text("forwarded", { mode: "json" }).$type<string[]>(),
  },
  (t) => [index("deliveries_created").on(t.createdAt)],
);

export interface DeliveryCopy {
  recipient: string;
  accountId: number;
  address: string;
  mailboxId: number;
  mailbox: string;
}

/**
 * Aliases (store/addressing.ts): an address of one of our domains that delivers to its targets,
 * accounts or addresses of ours (resolved again, recursively) or external addresses (forwarded
 * through the outbound queue with SRS). An alias never shares its address with an account.
 */
export const aliases = sqliteTable(
  "aliases",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    address: text("address").notNull().unique(),
    targets: text("targets", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("aliases_domain").on(t.domainId), check("aliases_address_lower", sql`${t.address} = lower(${t.address})`)],
);

export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
    flags: text("flags", { mode: "json" }).$type<string[]>().notNull(),
    internalDate: integer("internal_date").notNull(),
    size: integer("size").notNull(),
    headerSize: integer("header_size").notNull(),
    blobKey: text("blob_key").notNull(),
    envelope: text("envelope", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** The MIME index's body tree, byte offsets included, so sections are served by R2 range reads. */
    bodystructure: text("bodystructure", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    deliveryId: text("delivery_id").references(() => deliveries.id),
    createdAt: integer("created_at").notNull(),
    // What SEARCH, SORT and THREAD need (contract SearchFields), computed by the relay at ingest.
    // All null for a message stored without search fields: such a message matches no text key.
    /** `{ "subject": ["folded value", …], … }` by lower-case field name. */
    searchHeaders: text("search_headers", { mode: "json" }).$type<Record<string, string[]>>(),
    /** "YYYY-MM-DD" of the Date: header in its own zone (SENTBEFORE/SENTON/SENTSINCE). */
    sentDate: text("sent_date"),
    /** The Date: header in ms since the epoch (SORT DATE, THREAD). */
    sentAt: integer("sent_at"),
    sortSubject: text("sort_subject"),
    sortFrom: text("sort_from"),
    sortTo: text("sort_to"),
    sortCc: text("sort_cc"),
    sortDisplayFrom: text("sort_display_from"),
    sortDisplayTo: text("sort_display_to"),
    threadMessageId: text("thread_message_id"),
    threadInReplyTo: text("thread_in_reply_to"),
    threadReferences: text("thread_references", { mode: "json" }).$type<string[]>(),
    /** The subject was a reply or forward (RFC 5256 §2.1, THREAD=REFERENCES); 0 without search fields. */
    threadIsReply: integer("thread_is_reply", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    uniqueIndex("messages_mailbox_uid").on(t.mailboxId, t.uid),
    index("messages_mailbox_modseq").on(t.mailboxId, t.modseq),
    index("messages_blob_key").on(t.blobKey),
    // Rebuilding the result of a replayed delivery looks messages up by delivery.
    index("messages_delivery").on(t.deliveryId),
    // Quota usage is sum(size) over an account: a covering index keeps that off the table rows.
    index("messages_account_size").on(t.accountId, t.size),
  ],
);

/**
 * One row per expunged UID, with the MODSEQ of the expunge (EXPUNGE, and MOVE's source side):
 * what the changes feed and QRESYNC's VANISHED (EARLIER) report. A deleted mailbox takes its
 * tombstones with it (its UIDVALIDITY is gone, so nobody can ask).
 */
export const expunged = sqliteTable(
  "expunged",
  {
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
  },
  (t) => [index("expunged_mailbox_modseq").on(t.mailboxId, t.modseq)],
);

/**
 * IMAP subscriptions are names, not mailboxes (RFC 9051 §6.3.9): a name stays subscribed when its
 * mailbox is deleted, and a name that never existed may be subscribed.
 */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.name] })],
);

/**
 * The outbound queue (store/submissions.ts, store/outbound.ts). A submission is the message once
 * (its blob in R2) with its sender; it is split into one job per destination domain, which relays
 * lease (`lease_token` until `lease_expires_at`), deliver and report; each remote recipient keeps
 * its own state. A job is due when `next_attempt_at <= now` and it holds no live lease; a job with
 * no pending recipient left has `next_attempt_at` NULL and is never offered again. Idempotency keys
 * are unique per account, so one account's key can never replay another account's submission.
 */
export const OUTBOUND_STATES = ["queued", "delivered", "deferred", "failed", "bounced"] as const;

export const outboundSubmissions = sqliteTable(
  "outbound_submissions",
  {
    id: text("id").primaryKey(),
    /** The submitting account; null for mail we forward (an alias's external target) and its DSNs. */
    accountId: integer("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    /** The received delivery this forwards; its reverse-path is where a DSN for it goes. */
    deliveryId: text("delivery_id").references(() => deliveries.id, { onDelete: "set null" }),
    idempotencyKey: text("idempotency_key").notNull(),
    blobKey: text("blob_key").notNull(),
    /** The SMTP reverse-path; "" (the null sender) never gets a DSN. */
    mailFrom: text("mail_from").notNull(),
    size: integer("size").notNull(),
    /** Octets of the header (index.headerSize): what a DSN's text/rfc822-headers part quotes. */
    headerSize: integer("header_size").notNull(),
    /** Recipients of our own domains, stored at once through the ingest path (replays re-read them). */
    localRecipients: text("local_recipients", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("outbound_submissions_account_key").on(t.accountId, t.idempotencyKey)],
);

export const outboundJobs = sqliteTable(
  "outbound_jobs",
  {
    id: text("id").primaryKey(),
    submissionId: text("submission_id")
      .notNull()
      .references(() => outboundSubmissions.id, { onDelete: "cascade" }),
    domain: text("domain").notNull(),
    leaseToken: text("lease_token"),
    leaseExpiresAt: integer("lease_expires_at"),
    /** The relay that leased it last. */
    relayId: text("relay_id"),
    /** Leases handed out so far: the attempt number of the current lease. */
    attempts: integer("attempts").notNull().default(0),
    /** NULL once no recipient is pending. */
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("outbound_jobs_due").on(t.nextAttemptAt),
    uniqueIndex("outbound_jobs_submission_domain").on(t.submissionId, t.domain),
  ],
);

export const outboundRecipients = sqliteTable(
  "outbound_recipients",
  {
    submissionId: text("submission_id")
      .notNull()
      .references(() => outboundSubmissions.id, { onDelete: "cascade" }),
    jobId: text("job_id")
      .notNull()
      .references(() => outboundJobs.id, { onDelete: "cascade" }),
    recipient: text("recipient").notNull(),
    domain: text("domain").notNull(),
    state: text("state", { enum: OUTBOUND_STATES }).notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    /** When this recipient is next tried (its job's schedule); NULL once final. */
    nextAttemptAt: integer("next_attempt_at"),
    /** The last RecipientOutcome reported for it (contract), as JSON. */
    lastResult: text("last_result", { mode: "json" }).$type<Record<string, unknown>>(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.recipient] }),
    check("outbound_recipients_state", sql`${t.state} IN ('queued', 'delivered', 'deferred', 'failed', 'bounced')`),
  ],
);

/**
 * DKIM signing keys (store/dkim.ts), two per domain from its creation: RSA and ed25519 (RFC 8463).
 * `public_key` is what the `p=` tag publishes (base64): the SPKI DER for RSA, the raw 32-byte key
 * for ed25519. A key signs between `active_from` and `retired_at`; every stored key stays published,
 * so a rotation can add a key before it signs and keep it after it stops.
 */
export const DKIM_ALGORITHMS = ["rsa-sha256", "ed25519-sha256"] as const;

export const dkimKeys = sqliteTable(
  "dkim_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    selector: text("selector").notNull(),
    algorithm: text("algorithm", { enum: DKIM_ALGORITHMS }).notNull(),
    /** PKCS#8 PEM; leaves the edge only to an authenticated relay. */
    privateKeyPem: text("private_key_pem").notNull(),
    publicKey: text("public_key").notNull(),
    /** Signs from this time on (a rotation publishes the new key before it signs). */
    activeFrom: integer("active_from").notNull(),
    /** Stops signing at this time (still published for a while after); null: no successor yet. */
    retiredAt: integer("retired_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("dkim_keys_domain_selector").on(t.domainId, t.selector),
    check("dkim_keys_algorithm", sql`${t.algorithm} IN ('rsa-sha256', 'ed25519-sha256')`),
  ],
);

/**
 * TLS session results reported with outbound deliveries (store/tls-results.ts), the input of
 * TLS-RPT aggregate reports (RFC 8460), which group by policy domain and day. `job_id` is not a
 * foreign key on purpose: the results must outlive any cleanup of the queue until reported.
 */
export const TLS_POLICY_TYPES = ["sts", "tlsa", "no-policy-found"] as const;

export const tlsResults = sqliteTable(
  "tls_results",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    jobId: text("job_id").notNull(),
    policyType: text("policy_type", { enum: TLS_POLICY_TYPES }).notNull(),
    /** Lower-case, like every domain name stored here. */
    policyDomain: text("policy_domain").notNull(),
    policyStrings: text("policy_strings", { mode: "json" }).$type<string[]>().notNull(),
    mxHost: text("mx_host").notNull(),
    receivingIp: text("receiving_ip"),
    /** "success" or an RFC 8460 result type (contract TlsResultType); not CHECKed, as the RFC's list may grow. */
    result: text("result").notNull(),
    detail: text("detail"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("tls_results_domain_created").on(t.policyDomain, t.createdAt),
    check("tls_results_policy_domain_lower", sql`${t.policyDomain} = lower(${t.policyDomain})`),
    check("tls_results_policy_type", sql`${t.policyType} IN ('sts', 'tlsa', 'no-policy-found')`),
  ],
);

/**
 * Aggregate reports about our domains (store/reports.ts): TLS-RPT (RFC 8460) received over HTTPS or
 * by mail, DMARC (RFC 7489 appendix C) by mail. A report is stored whole in one batch or not at
 * all; (organization, report id) is unique, so a report sent twice (both rua URIs, or a retry) is
 * kept once. Raw reports are not kept in D1: a report mail's bytes stay in R2 under its delivery.
 */
export const REPORT_CHANNELS = ["https", "mail"] as const;

export const tlsReports = sqliteTable(
  "tls_reports",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    organization: text("organization").notNull(),
    reportId: text("report_id").notNull(),
    contact: text("contact"),
    startAt: integer("start_at").notNull(),
    endAt: integer("end_at").notNull(),
    receivedVia: text("received_via", { enum: REPORT_CHANNELS }).notNull(),
    /** The report mail's delivery (its raw bytes); null for HTTPS. */
    deliveryId: text("delivery_id"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("tls_reports_org_report").on(t.organization, t.reportId),
    index("tls_reports_domain_start").on(t.domainId, t.startAt),
  ],
);

export const tlsReportPolicies = sqliteTable(
  "tls_report_policies",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    reportId: integer("report_id")
      .notNull()
      .references(() => tlsReports.id, { onDelete: "cascade" }),
    policyType: text("policy_type").notNull(),
    policyDomain: text("policy_domain").notNull(),
    policyStrings: text("policy_strings", { mode: "json" }).$type<string[]>().notNull(),
    mxHosts: text("mx_hosts", { mode: "json" }).$type<string[]>().notNull(),
    successes: integer("successes").notNull(),
    failures: integer("failures").notNull(),
    /** RFC 8460 §4.3 failure-details, as received (validated, bounded). */
    failureDetails: text("failure_details", { mode: "json" }).$type<Record<string, unknown>[]>().notNull(),
  },
  (t) => [index("tls_report_policies_report").on(t.reportId)],
);

export const dmarcReports = sqliteTable(
  "dmarc_reports",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    organization: text("organization").notNull(),
    reportId: text("report_id").notNull(),
    email: text("email"),
    beginAt: integer("begin_at").notNull(),
    endAt: integer("end_at").notNull(),
    /** policy_published as received (adkim, aspf, p, sp, pct). */
    policy: text("policy", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    deliveryId: text("delivery_id"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("dmarc_reports_org_report").on(t.organization, t.reportId),
    index("dmarc_reports_domain_begin").on(t.domainId, t.beginAt),
  ],
);

export const dmarcRecords = sqliteTable(
  "dmarc_records",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    reportId: integer("report_id")
      .notNull()
      .references(() => dmarcReports.id, { onDelete: "cascade" }),
    sourceIp: text("source_ip").notNull(),
    count: integer("count").notNull(),
    disposition: text("disposition").notNull(),
    /** policy_evaluated: the DMARC-aligned results, "pass" or "fail". */
    dkim: text("dkim").notNull(),
    spf: text("spf").notNull(),
    headerFrom: text("header_from").notNull(),
    /** auth_results as received: { dkim: [{ domain, selector?, result }], spf: [{ domain, scope?, result }] }. */
    authResults: text("auth_results", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index("dmarc_records_report").on(t.reportId)],
);

/**
 * Failed password checks on the edge's public login (the Apple profile, store/login-throttle.ts),
 * counted per key (`address:<a>`, `ip:<addr>`) within a fixed window that starts at the first
 * failure; the relay throttles its own logins before they reach the edge.
 */
export const loginFailures = sqliteTable("login_failures", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  windowStart: integer("window_start").notNull(),
});

export type DomainRow = typeof domains.$inferSelect;
export type AliasRow = typeof aliases.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type MailboxRow = typeof mailboxes.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type DkimKeyRow = typeof dkimKeys.$inferSelect;
