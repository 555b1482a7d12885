ALTER TABLE `replicas` ADD `mode` text DEFAULT 'spot' NOT NULL;--> statement-breakpoint
ALTER TABLE `switches` ADD `error_message` text;