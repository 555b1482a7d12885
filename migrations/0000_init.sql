CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`logical_agent_id` text NOT NULL,
	`hostname` text,
	`status` text DEFAULT 'online' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`agent_version` text,
	`instance_id` text,
	`auto_switch_enabled` integer DEFAULT true NOT NULL,
	`auto_terminate_enabled` integer DEFAULT true NOT NULL,
	`terminate_wait_seconds` integer DEFAULT 300 NOT NULL,
	`manual_replica_enabled` integer DEFAULT false NOT NULL,
	`replica_count` integer DEFAULT 1 NOT NULL,
	`legacy_auto_switch_opt_in` integer DEFAULT false NOT NULL,
	`min_savings_percent` real,
	`risk_threshold` real,
	`max_switches_per_week` integer,
	`max_switches_per_day` integer,
	`min_pool_duration_hours` real,
	`last_heartbeat_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "agents_status" CHECK("agents"."status" in ('online', 'offline', 'disabled', 'deleted'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_client_logical` ON `agents` (`client_id`,`logical_agent_id`);--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`client_id` text,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`before` text,
	`after` text,
	`request_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_created` ON `audit_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `audit_log_client` ON `audit_log` (`client_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `cleanup_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`reported_at` integer,
	`received_at` integer NOT NULL,
	`snapshots_deleted` integer NOT NULL,
	`amis_deleted` integer NOT NULL,
	`failures` integer NOT NULL,
	`error` text,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cleanup_reports_agent` ON `cleanup_reports` (`agent_id`,`received_at`);--> statement-breakpoint
CREATE TABLE `client_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `client_tokens_hash` ON `client_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `client_tokens_client` ON `client_tokens` (`client_id`);--> statement-breakpoint
CREATE TABLE `clients` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`status` text DEFAULT 'active' NOT NULL,
	`webhook_url` text,
	`webhook_secret` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "clients_status" CHECK("clients"."status" in ('active', 'suspended', 'deleted'))
);
--> statement-breakpoint
CREATE INDEX `clients_name` ON `clients` (`name`);--> statement-breakpoint
CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text,
	`command_type` text NOT NULL,
	`target_mode` text,
	`target_pool_id` text,
	`priority` integer NOT NULL,
	`terminate_wait_seconds` integer,
	`payload` text,
	`source` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`message` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`delivered_at` integer,
	`acked_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL,
	CONSTRAINT "commands_status" CHECK("commands"."status" in ('queued', 'delivered', 'acked', 'running', 'completed', 'failed', 'expired', 'cancelled'))
);
--> statement-breakpoint
CREATE INDEX `commands_agent_created` ON `commands` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `commands_client_created` ON `commands` (`client_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `cron_runs` (
	`job` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`ok` integer,
	`detail` text
);
--> statement-breakpoint
CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`params_version` integer NOT NULL,
	`shadow` integer DEFAULT false NOT NULL,
	`decision` text NOT NULL,
	`target_mode` text,
	`target_pool_id` text,
	`expected_savings_per_hour` real,
	`risk` real,
	`confidence` real,
	`reasons` text NOT NULL,
	`blocked_by` text NOT NULL,
	`inputs` text,
	`command_id` text,
	`applied_at` integer,
	`repeat_count` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `decisions_agent_created` ON `decisions` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `engine_params` (
	`version` integer PRIMARY KEY NOT NULL,
	`params` text NOT NULL,
	`status` text NOT NULL,
	`note` text,
	`created_by` text,
	`created_at` integer NOT NULL,
	`activated_at` integer,
	CONSTRAINT "engine_params_status" CHECK("engine_params"."status" in ('draft', 'active', 'shadow', 'retired'))
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text,
	`pool_id` text,
	`kind` text NOT NULL,
	`termination_time` integer,
	`detected_at` integer,
	`received_at` integer NOT NULL,
	`action` text,
	`replica_id` text,
	`new_instance_id` text,
	`failover_ms` integer,
	`detail` text,
	CONSTRAINT "events_kind" CHECK("events"."kind" in ('termination_notice', 'rebalance', 'scheduled_event', 'termination'))
);
--> statement-breakpoint
CREATE INDEX `events_pool_received` ON `events` (`pool_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `events_agent_received` ON `events` (`agent_id`,`received_at`);--> statement-breakpoint
CREATE TABLE `instances` (
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
	CONSTRAINT "instances_mode" CHECK("instances"."mode" in ('spot', 'ondemand', 'unknown')),
	CONSTRAINT "instances_status" CHECK("instances"."status" in ('active', 'terminated'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `instances_client_instance` ON `instances` (`client_id`,`instance_id`);--> statement-breakpoint
CREATE INDEX `instances_agent` ON `instances` (`agent_id`);--> statement-breakpoint
CREATE TABLE `notification_reads` (
	`notification_id` text NOT NULL,
	`user_id` text NOT NULL,
	`read_at` integer NOT NULL,
	PRIMARY KEY(`notification_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`message` text NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "notifications_severity" CHECK("notifications"."severity" in ('info', 'warning', 'error', 'success'))
);
--> statement-breakpoint
CREATE INDEX `notifications_client_created` ON `notifications` (`client_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ondemand_prices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`instance_type` text NOT NULL,
	`region` text NOT NULL,
	`price` real NOT NULL,
	`observed_at` integer NOT NULL,
	`reported_by_client_id` text
);
--> statement-breakpoint
CREATE INDEX `ondemand_prices_type_time` ON `ondemand_prices` (`instance_type`,`region`,`observed_at`);--> statement-breakpoint
CREATE TABLE `pools` (
	`id` text PRIMARY KEY NOT NULL,
	`instance_type` text NOT NULL,
	`region` text NOT NULL,
	`az` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `replicas` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text,
	`replica_type` text NOT NULL,
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
	CONSTRAINT "replicas_status" CHECK("replicas"."status" in ('launching', 'syncing', 'ready', 'promoted', 'failed', 'terminated')),
	CONSTRAINT "replicas_type" CHECK("replicas"."replica_type" in ('manual', 'emergency'))
);
--> statement-breakpoint
CREATE INDEX `replicas_agent_status` ON `replicas` (`agent_id`,`status`);--> statement-breakpoint
CREATE INDEX `replicas_client` ON `replicas` (`client_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `replicas_agent_signal` ON `replicas` (`agent_id`,`signal_key`);--> statement-breakpoint
CREATE TABLE `savings_daily` (
	`agent_id` text NOT NULL,
	`client_id` text NOT NULL,
	`day` text NOT NULL,
	`baseline_cost` real NOT NULL,
	`primary_cost` real NOT NULL,
	`replica_cost` real NOT NULL,
	`overlap_cost` real NOT NULL,
	`savings` real NOT NULL,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`agent_id`, `day`)
);
--> statement-breakpoint
CREATE INDEX `savings_daily_client_day` ON `savings_daily` (`client_id`,`day`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `spot_prices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` text NOT NULL,
	`price` real NOT NULL,
	`observed_at` integer NOT NULL,
	`reported_by_client_id` text,
	`reported_by_agent_id` text
);
--> statement-breakpoint
CREATE INDEX `spot_prices_pool_time` ON `spot_prices` (`pool_id`,`observed_at`);--> statement-breakpoint
CREATE TABLE `spot_prices_hourly` (
	`pool_id` text NOT NULL,
	`hour_at` integer NOT NULL,
	`min_price` real NOT NULL,
	`max_price` real NOT NULL,
	`avg_price` real NOT NULL,
	`last_price` real NOT NULL,
	PRIMARY KEY(`pool_id`, `hour_at`)
);
--> statement-breakpoint
CREATE TABLE `switches` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`command_id` text,
	`trigger` text NOT NULL,
	`old_instance_id` text,
	`new_instance_id` text,
	`old_mode` text,
	`new_mode` text,
	`old_pool_id` text,
	`new_pool_id` text,
	`instance_type` text,
	`region` text,
	`on_demand_price` real,
	`old_price` real,
	`new_price` real,
	`ami_id` text,
	`snapshot_used` integer,
	`initiated_at` integer,
	`ami_created_at` integer,
	`launched_at` integer,
	`ready_at` integer,
	`traffic_switched_at` integer,
	`old_terminated_at` integer,
	`downtime_ms` integer,
	`duration_ms` integer,
	`received_at` integer NOT NULL,
	`old_termination_confirmed_at` integer
);
--> statement-breakpoint
CREATE INDEX `switches_client_received` ON `switches` (`client_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `switches_agent_received` ON `switches` (`agent_id`,`received_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `switches_command` ON `switches` (`command_id`);--> statement-breakpoint
CREATE TABLE `usage_segments` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`instance_id` text NOT NULL,
	`role` text NOT NULL,
	`mode` text NOT NULL,
	`pool_id` text,
	`instance_type` text NOT NULL,
	`region` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	CONSTRAINT "usage_segments_role" CHECK("usage_segments"."role" in ('primary', 'replica', 'overlap'))
);
--> statement-breakpoint
CREATE INDEX `usage_segments_agent` ON `usage_segments` (`agent_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `usage_segments_open` ON `usage_segments` (`instance_id`,`ended_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`role` text NOT NULL,
	`client_id` text,
	`password_hash` text NOT NULL,
	`password_salt` text NOT NULL,
	`created_at` integer NOT NULL,
	`disabled_at` integer,
	CONSTRAINT "users_role" CHECK("users"."role" in ('admin', 'owner', 'viewer'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email` ON `users` (`email`);