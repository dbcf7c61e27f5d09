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
CREATE TABLE `outbound_submissions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` integer NOT NULL,
	`idempotency_key` text NOT NULL,
	`blob_key` text NOT NULL,
	`mail_from` text NOT NULL,
	`size` integer NOT NULL,
	`header_size` integer NOT NULL,
	`local_recipients` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_submissions_account_key` ON `outbound_submissions` (`account_id`,`idempotency_key`);