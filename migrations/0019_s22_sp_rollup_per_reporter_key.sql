PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_spot_prices_hourly` (
	`pool_id` text NOT NULL,
	`hour_at` integer NOT NULL,
	`reporter` text DEFAULT '' NOT NULL,
	`shared` integer DEFAULT false NOT NULL,
	`min_price` real NOT NULL,
	`max_price` real NOT NULL,
	`avg_price` real NOT NULL,
	`last_price` real NOT NULL,
	PRIMARY KEY(`pool_id`, `hour_at`, `reporter`)
);
--> statement-breakpoint
INSERT INTO `__new_spot_prices_hourly`("pool_id", "hour_at", "reporter", "shared", "min_price", "max_price", "avg_price", "last_price") SELECT "pool_id", "hour_at", "reporter", "shared", "min_price", "max_price", "avg_price", "last_price" FROM `spot_prices_hourly`;--> statement-breakpoint
DROP TABLE `spot_prices_hourly`;--> statement-breakpoint
ALTER TABLE `__new_spot_prices_hourly` RENAME TO `spot_prices_hourly`;--> statement-breakpoint
PRAGMA foreign_keys=ON;