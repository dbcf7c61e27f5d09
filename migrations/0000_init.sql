CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`address` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "accounts_address_lower" CHECK("accounts"."address" = lower("accounts"."address"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_address_unique` ON `accounts` (`address`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`idempotency_key` text NOT NULL,
	`blob_key` text NOT NULL,
	`mail_from` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_idempotency_key_unique` ON `deliveries` (`idempotency_key`);--> statement-breakpoint
CREATE TABLE `domains` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`mta_sts_mode` text,
	`mta_sts_mx` text,
	`mta_sts_max_age` integer,
	`mta_sts_policy_id` text,
	`created_at` integer NOT NULL,
	CONSTRAINT "domains_name_lower" CHECK("domains"."name" = lower("domains"."name")),
	CONSTRAINT "domains_mta_sts_mode" CHECK("domains"."mta_sts_mode" IS NULL OR "domains"."mta_sts_mode" IN ('enforce', 'testing', 'none'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `domains_name_unique` ON `domains` (`name`);--> statement-breakpoint
CREATE TABLE `mailboxes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	`role` text,
	`subscribed` integer DEFAULT true NOT NULL,
	`uidvalidity` integer NOT NULL,
	`uidnext` integer DEFAULT 1 NOT NULL,
	`highestmodseq` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "mailboxes_role" CHECK("mailboxes"."role" IS NULL OR "mailboxes"."role" IN ('inbox', 'sent', 'drafts', 'junk', 'trash', 'archive'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mailboxes_account_name` ON `mailboxes` (`account_id`,`name`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	`flags` text NOT NULL,
	`internal_date` integer NOT NULL,
	`size` integer NOT NULL,
	`header_size` integer NOT NULL,
	`blob_key` text NOT NULL,
	`envelope` text NOT NULL,
	`bodystructure` text NOT NULL,
	`delivery_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_mailbox_uid` ON `messages` (`mailbox_id`,`uid`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_modseq` ON `messages` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE INDEX `messages_blob_key` ON `messages` (`blob_key`);--> statement-breakpoint
CREATE INDEX `messages_delivery` ON `messages` (`delivery_id`);