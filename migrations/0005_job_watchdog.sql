ALTER TABLE `job_batches` ADD `message` text;--> statement-breakpoint
ALTER TABLE `job_batches` ADD `updated_at` integer;--> statement-breakpoint
ALTER TABLE `job_batches` ADD `requeues` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `job_batches` ADD `stalled_since` integer;