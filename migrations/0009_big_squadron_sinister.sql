PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_instances` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text NOT NULL,
	`instance_type` text,
	`region` text,
	`az` text,
	`ami_id` text,
	`mode` text DEFAULT 'unknown' NOT NULL,
	`pool_id` text,
	`private_ip` text,
	`public_ip` text,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`terminated_at` integer,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "instances_mode" CHECK("__new_instances"."mode" in ('spot', 'ondemand', 'unknown')),
	CONSTRAINT "instances_status" CHECK("__new_instances"."status" in ('active', 'terminating', 'terminated'))
);
--> statement-breakpoint
INSERT INTO `__new_instances`("id", "client_id", "agent_id", "instance_id", "instance_type", "region", "az", "ami_id", "mode", "pool_id", "private_ip", "public_ip", "status", "created_at", "updated_at", "terminated_at") SELECT "id", "client_id", "agent_id", "instance_id", "instance_type", "region", "az", "ami_id", "mode", "pool_id", "private_ip", "public_ip", "status", "created_at", "updated_at", "terminated_at" FROM `instances`;--> statement-breakpoint
DROP TABLE `instances`;--> statement-breakpoint
ALTER TABLE `__new_instances` RENAME TO `instances`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `instances_client_instance` ON `instances` (`client_id`,`instance_id`);--> statement-breakpoint
CREATE INDEX `instances_agent` ON `instances` (`agent_id`);--> statement-breakpoint
CREATE INDEX `instances_pool` ON `instances` (`pool_id`,`terminated_at`);