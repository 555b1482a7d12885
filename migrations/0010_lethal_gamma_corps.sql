-- Concurrent syncs opened some segments twice (both open, the ledger counted the instance twice): keep
-- the first opened of each key, end the others where they started (zero length), then allow one open per key.
UPDATE `usage_segments` SET `ended_at` = `started_at` WHERE `ended_at` IS NULL AND `rowid` NOT IN (SELECT min(`rowid`) FROM `usage_segments` WHERE `ended_at` IS NULL GROUP BY `agent_id`, `instance_id`, `role`, `mode`, coalesce(`pool_id`, ''));--> statement-breakpoint
CREATE UNIQUE INDEX `usage_segments_open_key` ON `usage_segments` (`agent_id`,`instance_id`,`role`,`mode`,coalesce(`pool_id`, '')) WHERE `ended_at` IS NULL;
