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
-- Each client's newest reported price becomes its quote, so decisions keep their prices across the deploy
-- (rows no client reported stay operator data, read from the price rows themselves).
INSERT INTO `price_quotes` (`series`, `client_id`, `price`, `changed_at`, `reported_at`, `shared`) SELECT `pool_id`, `reported_by_client_id`, `price`, `observed_at`, `observed_at`, 0 FROM `spot_prices` AS `s` WHERE `reported_by_client_id` IS NOT NULL AND `observed_at` = (SELECT max(`observed_at`) FROM `spot_prices` WHERE `pool_id` = `s`.`pool_id` AND `reported_by_client_id` = `s`.`reported_by_client_id`) GROUP BY `pool_id`, `reported_by_client_id`;--> statement-breakpoint
INSERT INTO `price_quotes` (`series`, `client_id`, `price`, `changed_at`, `reported_at`, `shared`) SELECT 'ondemand:' || `instance_type` || ':' || `region`, `reported_by_client_id`, `price`, `observed_at`, `observed_at`, 0 FROM `ondemand_prices` AS `o` WHERE `reported_by_client_id` IS NOT NULL AND `observed_at` = (SELECT max(`observed_at`) FROM `ondemand_prices` WHERE `instance_type` = `o`.`instance_type` AND `region` = `o`.`region` AND `reported_by_client_id` = `o`.`reported_by_client_id`) GROUP BY `instance_type`, `region`, `reported_by_client_id`;--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `last_price`;--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `price_changed_at`;--> statement-breakpoint
ALTER TABLE `pools` DROP COLUMN `last_reported_at`;