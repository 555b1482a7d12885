/**
 * The pools' events (rebalance recommendations, interruption notices, terminations: the engine's risk
 * data) and how the control plane answered a notice. Each function returns its statement, unexecuted: a
 * caller whose event must land with other changes puts it in its `db.batch([...])`, one alone awaits it.
 * Writes: `events`.
 */
import { eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { events } from '../db/schema'
import { newId } from '../ids'

type NewEvent = typeof events.$inferInsert

/** An event; a caller that refers to it before it is written names its id. */
export function recordEvent(db: Database, event: Omit<NewEvent, 'id'> & { id?: string }) {
  return db.insert(events).values({ id: newId('evt'), ...event })
}

/** How a recorded notice was answered (a promotion, a replacement that failed, the failover's time). */
export type NoticeAnswer = Partial<
  Pick<NewEvent, 'action' | 'replicaId' | 'newInstanceId' | 'failoverMs' | 'detail'>
>

export function recordNoticeAnswer(db: Database, eventId: string, answer: NoticeAnswer) {
  return db.update(events).set(answer).where(eq(events.id, eventId))
}
