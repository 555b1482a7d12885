CREATE TABLE `rate_slots` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`subject` text NOT NULL,
	`detail` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rate_slots_subject` ON `rate_slots` (`scope`,`subject`,`created_at`);--> statement-breakpoint
CREATE INDEX `rate_slots_detail` ON `rate_slots` (`scope`,`detail`,`created_at`);--> statement-breakpoint
CREATE INDEX `rate_slots_created` ON `rate_slots` (`created_at`);--> statement-breakpoint
ALTER TABLE `notifications` ADD `seq` integer;--> statement-breakpoint
CREATE INDEX `notifications_client_seq` ON `notifications` (`client_id`,`seq`);--> statement-breakpoint
CREATE INDEX `notifications_seq` ON `notifications` (`seq`);--> statement-breakpoint
ALTER TABLE `webhook_cursors` ADD `delivered_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Number the notifications written before `seq` in the order the webhook cursor followed, (created_at, id),
-- and move each cursor to the last one it had passed.
UPDATE `notifications` SET `seq` = `r`.`n` FROM (SELECT `id`, row_number() OVER (ORDER BY `created_at`, `id`) AS `n` FROM `notifications`) AS `r` WHERE `r`.`id` = `notifications`.`id`;--> statement-breakpoint
UPDATE `webhook_cursors` SET `delivered_seq` = coalesce((SELECT max(`n`.`seq`) FROM `notifications` AS `n` WHERE `n`.`client_id` = `webhook_cursors`.`client_id` AND (`n`.`created_at` < `webhook_cursors`.`delivered_until` OR (`n`.`created_at` = `webhook_cursors`.`delivered_until` AND `n`.`id` <= `webhook_cursors`.`delivered_id`))), 0);
