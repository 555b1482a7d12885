CREATE TABLE `pricing_reporters` (
	`client_id` text NOT NULL,
	`region` text NOT NULL,
	`instance_type` text NOT NULL,
	`agent_id` text NOT NULL,
	`elected_at` integer NOT NULL,
	PRIMARY KEY(`client_id`, `region`, `instance_type`),
	FOREIGN KEY (`client_id`) REFERENCES `clients`(`id`) ON UPDATE no action ON DELETE no action
);
