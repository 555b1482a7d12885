/**
 * Per-person read state of notifications: one row per (notification, reader), never removed.
 * Writes: `notification_reads`.
 */
import { eq, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { notificationReads, notifications } from '../db/schema'

/** The insert marking one notification read by `reader` (for the caller's batch; a repeat is a no-op). */
export function markRead(db: Database, notificationId: string, reader: string, now: number) {
  return db
    .insert(notificationReads)
    .values({ notificationId, userId: reader, readAt: now })
    .onConflictDoNothing()
}

/** The insert marking every notification of the client read by `reader` (for the caller's batch). */
export function markAllRead(db: Database, clientId: string, reader: string, now: number) {
  return db
    .insert(notificationReads)
    .select(
      db
        .select({
          notificationId: notifications.id,
          userId: sql`${reader}`.as('user_id'),
          readAt: sql`${now}`.as('read_at'),
        })
        .from(notifications)
        .where(eq(notifications.clientId, clientId)),
    )
    .onConflictDoNothing()
}
