ALTER TABLE `org_settings` ADD `allow_install_scripts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `install_commands` text;