/** A client's notifications with one reader's read state: the notifications API and the activity page. */
import { and, desc, eq, sql } from 'drizzle-orm'
import type { Person } from '../../auth/principal'
import type { Database } from '../client'
import { notificationReads, notifications } from '../schema'

/** Read state is per user; the operator (no user row) reads under a fixed id. */
export function readerId(person: Person): string {
  return person.kind === 'admin' ? (person.userId ?? 'operator') : person.userId
}

/** Notifications of one client with the reader's read state, newest first. */
export async function listNotifications(
  db: Database,
  clientId: string,
  reader: string,
  limit: number,
  unreadOnly: boolean,
) {
  const rows = await db
    .select({
      id: notifications.id,
      kind: notifications.kind,
      agentId: notifications.agentId,
      message: notifications.message,
      severity: notifications.severity,
      createdAt: notifications.createdAt,
      readAt: notificationReads.readAt,
    })
    .from(notifications)
    .leftJoin(
      notificationReads,
      and(eq(notificationReads.notificationId, notifications.id), eq(notificationReads.userId, reader)),
    )
    .where(
      and(
        eq(notifications.clientId, clientId),
        unreadOnly ? sql`${notificationReads.readAt} is null` : undefined,
      ),
    )
    .orderBy(desc(notifications.createdAt))
    .limit(limit)
  return rows.map((r) => ({ ...r, isRead: r.readAt !== null, time: r.createdAt }))
}
