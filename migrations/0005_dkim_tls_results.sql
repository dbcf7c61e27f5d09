CREATE TABLE `dkim_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`selector` text NOT NULL,
	`algorithm` text NOT NULL,
	`private_key_pem` text NOT NULL,
	`public_key` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "dkim_keys_algorithm" CHECK("dkim_keys"."algorithm" IN ('rsa-sha256', 'ed25519-sha256'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dkim_keys_domain_selector` ON `dkim_keys` (`domain_id`,`selector`);--> statement-breakpoint
CREATE TABLE `tls_results` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text NOT NULL,
	`policy_type` text NOT NULL,
	`policy_domain` text NOT NULL,
	`policy_strings` text NOT NULL,
	`mx_host` text NOT NULL,
	`receiving_ip` text,
	`result` text NOT NULL,
	`detail` text,
	`created_at` integer NOT NULL,
	CONSTRAINT "tls_results_policy_domain_lower" CHECK("tls_results"."policy_domain" = lower("tls_results"."policy_domain")),
	CONSTRAINT "tls_results_policy_type" CHECK("tls_results"."policy_type" IN ('sts', 'tlsa', 'no-policy-found'))
);
--> statement-breakpoint
CREATE INDEX `tls_results_domain_created` ON `tls_results` (`policy_domain`,`created_at`);