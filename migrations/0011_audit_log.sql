CREATE TABLE `audit_log` (
	`audit_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`actor` text NOT NULL,
	`key_id` text,
	`action` text NOT NULL,
	`project_id` text,
	`targets` text NOT NULL,
	`request_id` text NOT NULL,
	`status` integer NOT NULL,
	`outcome` text NOT NULL,
	`at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_org_at` ON `audit_log` (`org_id`,`at`);