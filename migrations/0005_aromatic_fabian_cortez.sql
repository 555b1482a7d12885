CREATE TABLE `client_daily` (
	`day` text PRIMARY KEY NOT NULL,
	`total` integer NOT NULL,
	`new_clients` integer NOT NULL,
	`active` integer NOT NULL,
	`computed_at` integer NOT NULL
);
