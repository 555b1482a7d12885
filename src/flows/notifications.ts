/**
 * What the client is told (the dashboard's notifications, the webhooks carry them). Each function
 * returns its statement, unexecuted: a caller whose notification must land with the change it tells of
 * puts it in its `db.batch([...])`, one alone awaits it.
 * Writes: `notifications`.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { notifications } from '../db/schema'
import { newId } from '../ids'

export type NotificationFacts = Omit<typeof notifications.$inferInsert, 'id' | 'seq'>

/**
 * The next insertion number, computed inside the INSERT (one statement, so two writers never share
 * one): webhooks follow it, as a `created_at` written late may lie before what was already sent.
 */
const nextSeq = sql`(select coalesce(max(${notifications.seq}), 0) + 1 from ${notifications})`

/** A new notification. */
export function notifyClient(db: Database, facts: NotificationFacts) {
  return db.insert(notifications).values({ id: newId('ntf'), ...facts, seq: nextSeq })
}

/** A notification whose id the caller chose: a retried write of it adds nothing. */
export function notifyClientOnce(db: Database, id: string, facts: NotificationFacts) {
  return db
    .insert(notifications)
    .values({ id, ...facts, seq: nextSeq })
    .onConflictDoNothing()
}
