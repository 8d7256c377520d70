ALTER TABLE `files` ADD `executable` integer;--> statement-breakpoint
ALTER TABLE `files` ADD `blob_key` text;--> statement-breakpoint
CREATE INDEX `files_project_blob` ON `files` (`project_id`,`blob_key`);--> statement-breakpoint
ALTER TABLE `sandbox_snapshot_files` ADD `executable` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sandbox_snapshot_files` ADD `blob_key` text;--> statement-breakpoint
CREATE INDEX `sandbox_snapshot_files_project_blob` ON `sandbox_snapshot_files` (`project_id`,`blob_key`);