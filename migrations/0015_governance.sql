ALTER TABLE `org_settings` ADD `max_context_tokens` integer;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `allowed_models` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `generation_default` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `compliance_mode` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `max_context_tokens` integer;--> statement-breakpoint
ALTER TABLE `projects` ADD `generation_enabled` integer DEFAULT 1 NOT NULL;