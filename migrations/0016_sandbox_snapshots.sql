CREATE TABLE `sandbox_snapshot_chunks` (
	`snapshot_id` text NOT NULL,
	`project_id` text NOT NULL,
	`path` text NOT NULL,
	`ordinal` integer NOT NULL,
	`byte_offset` integer NOT NULL,
	`sha256` text NOT NULL,
	`r2_key` text NOT NULL,
	PRIMARY KEY(`snapshot_id`, `path`, `ordinal`)
);
--> statement-breakpoint
CREATE INDEX `sandbox_snapshot_chunks_project_sha` ON `sandbox_snapshot_chunks` (`project_id`,`sha256`);--> statement-breakpoint
CREATE TABLE `sandbox_snapshot_files` (
	`snapshot_id` text NOT NULL,
	`project_id` text NOT NULL,
	`path` text NOT NULL,
	`status` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`link_target` text,
	PRIMARY KEY(`snapshot_id`, `path`)
);
--> statement-breakpoint
CREATE INDEX `sandbox_snapshot_files_project` ON `sandbox_snapshot_files` (`project_id`);--> statement-breakpoint
ALTER TABLE `sandbox_runs` ADD `snapshot_id` text;