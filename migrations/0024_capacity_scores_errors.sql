CREATE TABLE `capacity_errors` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`source` text NOT NULL,
	`message` text,
	`at` integer NOT NULL,
	CONSTRAINT "capacity_errors_source" CHECK("capacity_errors"."source" in ('switch', 'replica'))
);
--> statement-breakpoint
CREATE INDEX `capacity_errors_pool_at` ON `capacity_errors` (`pool_id`,`at`);--> statement-breakpoint
CREATE TABLE `placement_score_status` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`updated_at` integer NOT NULL,
	CONSTRAINT "placement_score_status_status" CHECK("placement_score_status"."status" in ('ok', 'denied', 'limited'))
);
--> statement-breakpoint
CREATE TABLE `placement_scores` (
	`client_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`score` integer NOT NULL,
	`scored_at` integer NOT NULL,
	`agent_id` text NOT NULL,
	PRIMARY KEY(`client_id`, `pool_id`)
);
