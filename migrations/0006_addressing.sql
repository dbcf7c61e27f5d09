CREATE TABLE `aliases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`address` text NOT NULL,
	`targets` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "aliases_address_lower" CHECK("aliases"."address" = lower("aliases"."address"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `aliases_address_unique` ON `aliases` (`address`);--> statement-breakpoint
CREATE INDEX `aliases_domain` ON `aliases` (`domain_id`);--> statement-breakpoint
-- Edited after generation (this rebuild only). outbound_submissions.account_id becomes nullable (forwarded
-- mail has no submitting account), which SQLite can only do by rebuilding the table. The generated rebuild
-- relied on PRAGMA foreign_keys=OFF, a no-op inside the one transaction a D1 migration runs in: dropping the
-- old table would have cascade-deleted every queued job and recipient. So the three queue tables are set
-- aside, dropped children first (nothing left to cascade to), re-created as drizzle defines them and
-- refilled with their rowids (recipients are listed in rowid order).
CREATE TABLE `__keep_outbound_submissions` AS SELECT rowid AS `__rowid`, * FROM `outbound_submissions`;--> statement-breakpoint
CREATE TABLE `__keep_outbound_jobs` AS SELECT rowid AS `__rowid`, * FROM `outbound_jobs`;--> statement-breakpoint
CREATE TABLE `__keep_outbound_recipients` AS SELECT rowid AS `__rowid`, * FROM `outbound_recipients`;--> statement-breakpoint
DROP TABLE `outbound_recipients`;--> statement-breakpoint
DROP TABLE `outbound_jobs`;--> statement-breakpoint
DROP TABLE `outbound_submissions`;--> statement-breakpoint
CREATE TABLE `outbound_submissions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` integer,
	`delivery_id` text,
	`idempotency_key` text NOT NULL,
	`blob_key` text NOT NULL,
	`mail_from` text NOT NULL,
	`size` integer NOT NULL,
	`header_size` integer NOT NULL,
	`local_recipients` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_submissions_account_key` ON `outbound_submissions` (`account_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `outbound_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`submission_id` text NOT NULL,
	`domain` text NOT NULL,
	`lease_token` text,
	`lease_expires_at` integer,
	`relay_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `outbound_submissions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `outbound_jobs_due` ON `outbound_jobs` (`next_attempt_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_jobs_submission_domain` ON `outbound_jobs` (`submission_id`,`domain`);--> statement-breakpoint
CREATE TABLE `outbound_recipients` (
	`submission_id` text NOT NULL,
	`job_id` text NOT NULL,
	`recipient` text NOT NULL,
	`domain` text NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_result` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `recipient`),
	FOREIGN KEY (`submission_id`) REFERENCES `outbound_submissions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `outbound_jobs`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "outbound_recipients_state" CHECK("outbound_recipients"."state" IN ('queued', 'delivered', 'deferred', 'failed', 'bounced'))
);
--> statement-breakpoint
INSERT INTO `outbound_submissions` (rowid, `id`, `account_id`, `delivery_id`, `idempotency_key`, `blob_key`, `mail_from`, `size`, `header_size`, `local_recipients`, `created_at`)
	SELECT `__rowid`, `id`, `account_id`, NULL, `idempotency_key`, `blob_key`, `mail_from`, `size`, `header_size`, `local_recipients`, `created_at`
	FROM `__keep_outbound_submissions` ORDER BY `__rowid`;--> statement-breakpoint
INSERT INTO `outbound_jobs` (rowid, `id`, `submission_id`, `domain`, `lease_token`, `lease_expires_at`, `relay_id`, `attempts`, `next_attempt_at`, `created_at`)
	SELECT `__rowid`, `id`, `submission_id`, `domain`, `lease_token`, `lease_expires_at`, `relay_id`, `attempts`, `next_attempt_at`, `created_at`
	FROM `__keep_outbound_jobs` ORDER BY `__rowid`;--> statement-breakpoint
INSERT INTO `outbound_recipients` (rowid, `submission_id`, `job_id`, `recipient`, `domain`, `state`, `attempts`, `next_attempt_at`, `last_result`, `updated_at`)
	SELECT `__rowid`, `submission_id`, `job_id`, `recipient`, `domain`, `state`, `attempts`, `next_attempt_at`, `last_result`, `updated_at`
	FROM `__keep_outbound_recipients` ORDER BY `__rowid`;--> statement-breakpoint
DROP TABLE `__keep_outbound_recipients`;--> statement-breakpoint
DROP TABLE `__keep_outbound_jobs`;--> statement-breakpoint
DROP TABLE `__keep_outbound_submissions`;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `recipients` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `authentication` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `copies` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `forwarded` text;--> statement-breakpoint
CREATE INDEX `deliveries_created` ON `deliveries` (`created_at`);--> statement-breakpoint
ALTER TABLE `domains` ADD `plus_delimiter` text DEFAULT '+' NOT NULL;--> statement-breakpoint
-- ON DELETE as the schema says (drizzle-kit left it out of ADD COLUMN).
ALTER TABLE `domains` ADD `catch_all_account_id` integer REFERENCES accounts(id) ON DELETE set null;--> statement-breakpoint
ALTER TABLE `domains` ADD `alias_of_domain_id` integer REFERENCES domains(id) ON DELETE set null;--> statement-breakpoint
ALTER TABLE `domains` ADD `inbound_policy` text DEFAULT '{}' NOT NULL;
