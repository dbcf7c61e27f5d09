/**
 * The D1 schema (DESIGN.md §4), the one source the migrations in `migrations/` are generated from
 * (`npx drizzle-kit generate`; review the SQL, never edit a released migration).
 *
 * Callers may rely on: addresses and domain names are stored lower-case (CHECK constraints);
 * every message row carries its account id so every query can scope by account; IMAP state
 * (uidvalidity, uidnext, highestmodseq, uid, modseq, flags) lives in columns, never in the relay;
 * `blob_key` is the full R2 key (`blobs/<sha256>`) of the raw message; times are ms since the epoch
 * except `uidvalidity`, which IMAP wants as a 32-bit number (seconds since the epoch at creation).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const MTA_STS_MODES = ["enforce", "testing", "none"] as const;
export const MAILBOX_ROLES = ["inbox", "sent", "drafts", "junk", "trash", "archive"] as const;

export const domains = sqliteTable(
  "domains",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull().unique(),
    /** null: no MTA-STS policy is published for this domain. */
    mtaStsMode: text("mta_sts_mode", { enum: MTA_STS_MODES }),
    mtaStsMx: text("mta_sts_mx", { mode: "json" }).$type<string[]>(),
    mtaStsMaxAge: integer("mta_sts_max_age"),
    mtaStsPolicyId: text("mta_sts_policy_id"),
    createdAt: integer("created_at").notNull(),
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
    subscribed: integer("subscribed", { mode: "boolean" }).notNull().default(true),
    uidvalidity: integer("uidvalidity").notNull(),
    uidnext: integer("uidnext").notNull().default(1),
    highestmodseq: integer("highestmodseq").notNull().default(1),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("mailboxes_account_name").on(t.accountId, t.name),
    check(
      "mailboxes_role",
      sql`${t.role} IS NULL OR ${t.role} IN ('inbox', 'sent', 'drafts', 'junk', 'trash', 'archive')`,
    ),
  ],
);

export const deliveries = sqliteTable("deliveries", {
  id: text("id").primaryKey(),
  idempotencyKey: text("idempotency_key").notNull().unique(),
  blobKey: text("blob_key").notNull(),
  mailFrom: text("mail_from").notNull(),
  createdAt: integer("created_at").notNull(),
});

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
  },
  (t) => [
    uniqueIndex("messages_mailbox_uid").on(t.mailboxId, t.uid),
    index("messages_mailbox_modseq").on(t.mailboxId, t.modseq),
    index("messages_blob_key").on(t.blobKey),
    // Rebuilding the result of a replayed delivery looks messages up by delivery.
    index("messages_delivery").on(t.deliveryId),
  ],
);

export type DomainRow = typeof domains.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type MailboxRow = typeof mailboxes.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
