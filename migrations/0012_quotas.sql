CREATE TABLE `org_limits` (
	`org_id` text PRIMARY KEY NOT NULL,
	`limits` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`org_id` text NOT NULL,
	`day` text NOT NULL,
	`project_id` text DEFAULT '' NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`tokens_assembled` integer DEFAULT 0 NOT NULL,
	`cost_micro_usd` integer DEFAULT 0 NOT NULL,
	`sandbox_ms` integer DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`org_id`, `day`, `project_id`, `key_id`, `model`)
);
--> statement-breakpoint
CREATE INDEX `sandbox_runs_org_status` ON `sandbox_runs` (`org_id`,`status`);