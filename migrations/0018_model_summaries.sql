-- Edited after drizzle-kit generate: it selected the new `kind` column from the old table ('' instead) and wrapped the
-- rebuild in PRAGMA foreign_keys, which D1 does not take (usage_daily has no foreign keys).
CREATE TABLE `__new_usage_daily` (
	`org_id` text NOT NULL,
	`day` text NOT NULL,
	`project_id` text DEFAULT '' NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`kind` text DEFAULT '' NOT NULL,
	`tokens_assembled` integer DEFAULT 0 NOT NULL,
	`cost_micro_usd` integer DEFAULT 0 NOT NULL,
	`sandbox_ms` integer DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`org_id`, `day`, `project_id`, `key_id`, `model`, `kind`)
);
--> statement-breakpoint
INSERT INTO `__new_usage_daily`("org_id", "day", "project_id", "key_id", "model", "kind", "tokens_assembled", "cost_micro_usd", "sandbox_ms", "requests") SELECT "org_id", "day", "project_id", "key_id", "model", '', "tokens_assembled", "cost_micro_usd", "sandbox_ms", "requests" FROM `usage_daily`;--> statement-breakpoint
DROP TABLE `usage_daily`;--> statement-breakpoint
ALTER TABLE `__new_usage_daily` RENAME TO `usage_daily`;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `model_summaries` text;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `summary_budget_usd` real;--> statement-breakpoint
ALTER TABLE `org_settings` ADD `rerank` integer DEFAULT 0 NOT NULL;