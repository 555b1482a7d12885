CREATE TABLE `backtest_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`params_version` integer NOT NULL,
	`instance_type` text NOT NULL,
	`region` text NOT NULL,
	`days` integer NOT NULL,
	`inputs` text NOT NULL,
	`strategies` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `backtest_runs_version_created` ON `backtest_runs` (`params_version`,`created_at`);