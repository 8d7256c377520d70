CREATE TABLE `api_keys` (
	`key_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_org` ON `api_keys` (`org_id`);--> statement-breakpoint
CREATE TABLE `chunks` (
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
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `chunks_project_path_ordinal` ON `chunks` (`project_id`,`path`,`ordinal`);--> statement-breakpoint
CREATE INDEX `chunks_project_sha` ON `chunks` (`project_id`,`sha256`);--> statement-breakpoint
CREATE TABLE `context_sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`user_id` text,
	`chunks_used` text NOT NULL,
	`tokens_at_call` integer NOT NULL,
	`model` text NOT NULL,
	`result_meta` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `context_sessions_project` ON `context_sessions` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `files` (
	`project_id` text NOT NULL,
	`path` text NOT NULL,
	`sha256` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`token_count` integer NOT NULL,
	`binary` integer NOT NULL,
	`type` text NOT NULL,
	`skip_reason` text,
	`chunk_count` integer NOT NULL,
	`job_created_at` integer NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`project_id`, `path`)
);
--> statement-breakpoint
CREATE TABLE `ingest_jobs` (
	`job_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`source` text NOT NULL,
	`batch_count` integer NOT NULL,
	`files_total` integer NOT NULL,
	`files_unchanged` integer NOT NULL,
	`files_ignored` integer NOT NULL,
	`error` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ingest_jobs_project` ON `ingest_jobs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `job_batches` (
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`status` text NOT NULL,
	`files_done` integer DEFAULT 0 NOT NULL,
	`files_skipped` integer DEFAULT 0 NOT NULL,
	`files_removed` integer DEFAULT 0 NOT NULL,
	`chunks` integer DEFAULT 0 NOT NULL,
	`chunks_written` integer DEFAULT 0 NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	`errors` text DEFAULT '[]' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`finished_at` integer,
	PRIMARY KEY(`job_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `orgs` (
	`org_id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `projects` (
	`project_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`tokenizer` text NOT NULL,
	`chunk_tokens` integer NOT NULL,
	`overlap_tokens` integer NOT NULL,
	`max_file_bytes` integer NOT NULL,
	`repo_full_name` text,
	`repo_branch` text,
	`webhook_secret` text,
	`git_token` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `projects_org` ON `projects` (`org_id`);--> statement-breakpoint
CREATE INDEX `projects_repo` ON `projects` (`repo_full_name`);--> statement-breakpoint
CREATE TABLE `summaries` (
	`summary_id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`path` text NOT NULL,
	`level` text NOT NULL,
	`content` text NOT NULL,
	`token_count` integer NOT NULL,
	`sha256` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `summaries_project_level_path` ON `summaries` (`project_id`,`level`,`path`);