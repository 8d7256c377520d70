CREATE TABLE `sandbox_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`request` text NOT NULL,
	`status` text NOT NULL,
	`results` text,
	`artifacts` text,
	`error` text,
	`replay_of` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `sandbox_runs_project` ON `sandbox_runs` (`project_id`,`created_at`);