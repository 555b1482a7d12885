CREATE TABLE `webhook_cursors` (
	`client_id` text PRIMARY KEY NOT NULL,
	`delivered_until` integer NOT NULL,
	`delivered_id` text DEFAULT '' NOT NULL,
	`last_error` text,
	`updated_at` integer NOT NULL
);
