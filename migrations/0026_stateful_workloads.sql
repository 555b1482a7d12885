CREATE TABLE `rolling_snapshots` (
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`snapshot_id` text NOT NULL,
	`volume_id` text NOT NULL,
	`device` text NOT NULL,
	`started_at` integer NOT NULL,
	`state` text NOT NULL,
	`completed_at` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`agent_id`, `snapshot_id`),
	CONSTRAINT "rolling_snapshots_state" CHECK("rolling_snapshots"."state" in ('pending', 'completed', 'error'))
);
--> statement-breakpoint
CREATE INDEX `rolling_snapshots_agent_started` ON `rolling_snapshots` (`agent_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `workload_interfaces` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`eni_id` text NOT NULL,
	`private_ip` text NOT NULL,
	`subnet_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `workload_volumes` (
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`volume_id` text NOT NULL,
	`device` text NOT NULL,
	`size_gib` integer NOT NULL,
	`az` text NOT NULL,
	`delete_on_termination` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`agent_id`, `volume_id`)
);
--> statement-breakpoint
ALTER TABLE `agents` ADD `stateful` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `rpo_minutes` integer DEFAULT 15 NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `drain_unit` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `hook_timeout_seconds` integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `drain_target_groups` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `switches` ADD `data_loss_bound_seconds` integer;--> statement-breakpoint
ALTER TABLE `switches` ADD `interface_id` text;--> statement-breakpoint
ALTER TABLE `switches` ADD `old_private_ip` text;--> statement-breakpoint
ALTER TABLE `switches` ADD `new_private_ip` text;--> statement-breakpoint
ALTER TABLE `switches` ADD `address_changed` integer;--> statement-breakpoint
ALTER TABLE `switches` ADD `stateful_detail` text;