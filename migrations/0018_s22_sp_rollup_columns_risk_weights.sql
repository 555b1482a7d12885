CREATE TABLE `client_risk_weights` (
	`client_id` text PRIMARY KEY NOT NULL,
	`weights` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `rollup_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`until` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `spot_prices_hourly` ADD `reporter` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `spot_prices_hourly` ADD `shared` integer DEFAULT false NOT NULL;