CREATE TABLE `dmarc_records` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`report_id` integer NOT NULL,
	`source_ip` text NOT NULL,
	`count` integer NOT NULL,
	`disposition` text NOT NULL,
	`dkim` text NOT NULL,
	`spf` text NOT NULL,
	`header_from` text NOT NULL,
	`auth_results` text NOT NULL,
	FOREIGN KEY (`report_id`) REFERENCES `dmarc_reports`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `dmarc_records_report` ON `dmarc_records` (`report_id`);--> statement-breakpoint
CREATE TABLE `dmarc_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`organization` text NOT NULL,
	`report_id` text NOT NULL,
	`email` text,
	`begin_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`policy` text NOT NULL,
	`delivery_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dmarc_reports_org_report` ON `dmarc_reports` (`organization`,`report_id`);--> statement-breakpoint
CREATE INDEX `dmarc_reports_domain_begin` ON `dmarc_reports` (`domain_id`,`begin_at`);--> statement-breakpoint
CREATE TABLE `tls_report_policies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`report_id` integer NOT NULL,
	`policy_type` text NOT NULL,
	`policy_domain` text NOT NULL,
	`policy_strings` text NOT NULL,
	`mx_hosts` text NOT NULL,
	`successes` integer NOT NULL,
	`failures` integer NOT NULL,
	`failure_details` text NOT NULL,
	FOREIGN KEY (`report_id`) REFERENCES `tls_reports`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tls_report_policies_report` ON `tls_report_policies` (`report_id`);--> statement-breakpoint
CREATE TABLE `tls_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`organization` text NOT NULL,
	`report_id` text NOT NULL,
	`contact` text,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`received_via` text NOT NULL,
	`delivery_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tls_reports_org_report` ON `tls_reports` (`organization`,`report_id`);--> statement-breakpoint
CREATE INDEX `tls_reports_domain_start` ON `tls_reports` (`domain_id`,`start_at`);--> statement-breakpoint
-- Hand-edited: existing keys need a value, then keep their meaning (an active key signed since it was made).
ALTER TABLE `dkim_keys` ADD `active_from` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `dkim_keys` ADD `retired_at` integer;--> statement-breakpoint
UPDATE `dkim_keys` SET `active_from` = `created_at`, `retired_at` = CASE WHEN `active` THEN NULL ELSE `created_at` END;--> statement-breakpoint
ALTER TABLE `domains` ADD `mx_hosts` text;--> statement-breakpoint
ALTER TABLE `domains` ADD `relay_ips` text;--> statement-breakpoint
ALTER TABLE `domains` ADD `report_local_part` text DEFAULT 'reports' NOT NULL;--> statement-breakpoint
ALTER TABLE `dkim_keys` DROP COLUMN `active`;--> statement-breakpoint
ALTER TABLE `domains` DROP COLUMN `mta_sts_policy_id`;