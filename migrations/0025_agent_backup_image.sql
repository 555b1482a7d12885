ALTER TABLE `agents` ADD `backup_image_hours` integer DEFAULT 24 NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `backup_image_id` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `backup_image_at` integer;