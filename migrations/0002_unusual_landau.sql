ALTER TABLE `pools` ADD `last_price` real;--> statement-breakpoint
ALTER TABLE `pools` ADD `price_changed_at` integer;--> statement-breakpoint
ALTER TABLE `pools` ADD `last_reported_at` integer;--> statement-breakpoint
CREATE INDEX `pools_type_region` ON `pools` (`instance_type`,`region`);