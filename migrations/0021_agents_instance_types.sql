ALTER TABLE `agents` ADD `base_instance_type` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `allowed_instance_types` text;