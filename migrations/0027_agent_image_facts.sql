ALTER TABLE `agents` ADD `image_architecture` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `image_ena_support` integer;