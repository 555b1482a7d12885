PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_replicas` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text,
	`replica_type` text NOT NULL,
	`mode` text DEFAULT 'spot' NOT NULL,
	`status` text DEFAULT 'launching' NOT NULL,
	`sync_status` text,
	`sync_latency_ms` integer,
	`state_transfer_progress` real,
	`pool_id` text NOT NULL,
	`instance_type` text NOT NULL,
	`region` text NOT NULL,
	`az` text NOT NULL,
	`parent_instance_id` text,
	`signal_key` text,
	`hourly_cost` real,
	`error_message` text,
	`created_at` integer NOT NULL,
	`launched_at` integer,
	`sync_started_at` integer,
	`sync_completed_at` integer,
	`ready_at` integer,
	`promoted_at` integer,
	`terminated_at` integer,
	`updated_at` integer NOT NULL,
	CONSTRAINT "replicas_status" CHECK("__new_replicas"."status" in ('launching', 'syncing', 'ready', 'promoted', 'failed', 'terminating', 'terminated')),
	CONSTRAINT "replicas_type" CHECK("__new_replicas"."replica_type" in ('manual', 'emergency'))
);
--> statement-breakpoint
INSERT INTO `__new_replicas`("id", "client_id", "agent_id", "instance_id", "replica_type", "mode", "status", "sync_status", "sync_latency_ms", "state_transfer_progress", "pool_id", "instance_type", "region", "az", "parent_instance_id", "signal_key", "hourly_cost", "error_message", "created_at", "launched_at", "sync_started_at", "sync_completed_at", "ready_at", "promoted_at", "terminated_at", "updated_at") SELECT "id", "client_id", "agent_id", "instance_id", "replica_type", "mode", "status", "sync_status", "sync_latency_ms", "state_transfer_progress", "pool_id", "instance_type", "region", "az", "parent_instance_id", "signal_key", "hourly_cost", "error_message", "created_at", "launched_at", "sync_started_at", "sync_completed_at", "ready_at", "promoted_at", "terminated_at", "updated_at" FROM `replicas`;--> statement-breakpoint
DROP TABLE `replicas`;--> statement-breakpoint
ALTER TABLE `__new_replicas` RENAME TO `replicas`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `replicas_agent_status` ON `replicas` (`agent_id`,`status`);--> statement-breakpoint
CREATE INDEX `replicas_client` ON `replicas` (`client_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `replicas_agent_signal` ON `replicas` (`agent_id`,`signal_key`);