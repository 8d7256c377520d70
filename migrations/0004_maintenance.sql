CREATE TABLE `maintenance_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
