CREATE TABLE `org_settings` (
	`org_id` text PRIMARY KEY NOT NULL,
	`audit_retention_days` integer,
	`sandbox_run_retention_days` integer,
	`session_retention_days` integer,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `retired_chunks` (
	`chunk_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`path` text NOT NULL,
	`ordinal` integer NOT NULL,
	`start_line` integer NOT NULL,
	`end_line` integer NOT NULL,
	`byte_offset` integer NOT NULL,
	`byte_length` integer NOT NULL,
	`token_count` integer NOT NULL,
	`sha256` text NOT NULL,
	`r2_key` text NOT NULL,
	`type` text NOT NULL,
	`severity` text,
	`encoding` text,
	`created_at` integer NOT NULL,
	`retired_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `retired_chunks_project_retired` ON `retired_chunks` (`project_id`,`retired_at`);--> statement-breakpoint
CREATE INDEX `retired_chunks_project_sha` ON `retired_chunks` (`project_id`,`sha256`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`last_active_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_project` ON `sessions` (`project_id`);--> statement-breakpoint
CREATE INDEX `sessions_org_active` ON `sessions` (`org_id`,`last_active_at`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`upload_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`r2_key` text NOT NULL,
	`r2_upload_id` text NOT NULL,
	`format` text NOT NULL,
	`status` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`job_id` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `uploads_project` ON `uploads` (`project_id`);--> statement-breakpoint
CREATE INDEX `uploads_status_updated` ON `uploads` (`status`,`updated_at`);--> statement-breakpoint
DROP INDEX `projects_org`;--> statement-breakpoint
ALTER TABLE `projects` ADD `deleted_at` integer;--> statement-breakpoint
CREATE INDEX `projects_org` ON `projects` (`org_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `chunks` ADD `encoding` text;--> statement-breakpoint
ALTER TABLE `files` ADD `status` text DEFAULT 'text' NOT NULL;--> statement-breakpoint
ALTER TABLE `files` ADD `encoding` text;--> statement-breakpoint
ALTER TABLE `files` ADD `link_target` text;--> statement-breakpoint
ALTER TABLE `files` ADD `skip_detail` text;--> statement-breakpoint
CREATE INDEX `files_project_status` ON `files` (`project_id`,`status`,`path`);--> statement-breakpoint
ALTER TABLE `ingest_jobs` ADD `files_duplicate` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `ingest_jobs` ADD `skipped_sample` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `job_batches` ADD `outcomes` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `job_batches` ADD `skipped` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
-- Rows written before outcomes existed: binary files, and text files kept as metadata with a size reason.
UPDATE `files` SET `status` = 'binary' WHERE `binary` = 1;--> statement-breakpoint
UPDATE `files` SET `status` = 'skipped', `skip_detail` = `skip_reason`, `skip_reason` = 'too large' WHERE `binary` = 0 AND `skip_reason` IS NOT NULL;
