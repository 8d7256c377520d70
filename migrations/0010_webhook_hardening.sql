CREATE TABLE `webhook_deliveries` (
	`project_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`received_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`project_id`, `delivery_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_received` ON `webhook_deliveries` (`received_at`);--> statement-breakpoint
ALTER TABLE `projects` ADD `pushed_commit` text;