CREATE TABLE `price_quotes` (
	`series` text NOT NULL,
	`client_id` text NOT NULL,
	`price` real NOT NULL,
	`changed_at` integer NOT NULL,
	`reported_at` integer NOT NULL,
	`shared` integer NOT NULL,
	PRIMARY KEY(`series`, `client_id`)
);
--> statement-breakpoint
ALTER TABLE `ondemand_prices` ADD `shared` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `spot_prices` ADD `shared` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `spot_prices_pool_client_time` ON `spot_prices` (`pool_id`,`reported_by_client_id`,`observed_at`);--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `last_price`;--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `price_changed_at`;--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `last_reported_at`;