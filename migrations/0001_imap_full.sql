CREATE TABLE `expunged` (
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `expunged_mailbox_modseq` ON `expunged` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	PRIMARY KEY(`account_id`, `name`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `accounts` ADD `quota_bytes` integer;--> statement-breakpoint
ALTER TABLE `accounts` ADD `last_uidvalidity` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `recent_uid` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `mailboxes_account_role` ON `mailboxes` (`account_id`,`role`) WHERE role IS NOT NULL;--> statement-breakpoint
-- Hand-added: subscriptions move from a mailbox column to a table of names; keep every existing one.
INSERT INTO `subscriptions` (`account_id`, `name`) SELECT `account_id`, `name` FROM `mailboxes` WHERE `subscribed` = 1;--> statement-breakpoint
ALTER TABLE `mailboxes` DROP COLUMN `subscribed`;--> statement-breakpoint
ALTER TABLE `messages` ADD `search_headers` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sent_date` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sent_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_subject` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_from` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_to` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_cc` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_display_from` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `sort_display_to` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `thread_message_id` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `thread_in_reply_to` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `thread_references` text;--> statement-breakpoint
CREATE INDEX `messages_account_size` ON `messages` (`account_id`,`size`);