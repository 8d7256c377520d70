CREATE TABLE `metrics_daily` (
	`org_id` text NOT NULL,
	`day` text NOT NULL,
	`project_id` text DEFAULT '' NOT NULL,
	`metric` text NOT NULL,
	`bucket` integer DEFAULT 0 NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`sum` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`org_id`, `day`, `project_id`, `metric`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `metrics_daily_day` ON `metrics_daily` (`day`);