ALTER TABLE `projects` ADD `tree_job_id` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `tree_claimed_at` integer;