/**
 * Notifications of the signed-in person's client, with per-user read state (`/api/notifications`,
 * the replaced console's paths). "Mark all read" only ever touches the caller's own client. Marking is a
 * change of state: each one that changes something is audited (unread count or read time before/after).
 */
import { and, count, eq, isNull } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, routeGroup } from '../group'
import * as z from 'zod'
import { personAuth, requirePerson, scopeClient } from '../../auth/middleware'
import { database, type Database } from '../../db/client'
import { notificationReads, notifications } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { auditEntry } from '../../db/audit'
import { listNotifications, readerId } from '../../db/queries/notifications'
import { clock } from '../../clock'
import { markAllRead, markRead } from '../../flows/notification-reads'

export const NotificationsQuery = z.object({
  client_id: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  unread: z.stringbool().default(false),
})

export const notificationRoutes = routeGroup<AppEnv>(CLIENT_API)
notificationRoutes.use(personAuth)

notificationRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: "Notifications of the caller's client with per-user read state",
    request: { query: NotificationsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const q = c.req.valid('query')
    const clientId = person.kind === 'user' ? person.clientId : q.client_id
    if (!clientId)
      throw new ApiError('VALIDATION', 'client_id is required for admins', {
        fields: [{ field: 'client_id', message: 'required' }],
      })
    scopeClient(c, clientId)
    return c.json(await listNotifications(database(c.env.DB), clientId, readerId(person), q.limit, q.unread))
  },
)

/** How many of a client's notifications the reader has not read. */
async function unreadCount(db: Database, clientId: string, reader: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .leftJoin(
      notificationReads,
      and(eq(notificationReads.notificationId, notifications.id), eq(notificationReads.userId, reader)),
    )
    .where(and(eq(notifications.clientId, clientId), isNull(notificationReads.readAt)))
  return row?.n ?? 0
}

notificationRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/mark-all-read',
    summary: "Mark all of the caller's client read (for the caller)",
    request: { query: z.object({ client_id: z.string().optional() }) },
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const clientId = person.kind === 'user' ? person.clientId : (c.req.valid('query').client_id ?? null)
    if (!clientId)
      throw new ApiError('VALIDATION', 'client_id is required for admins', {
        fields: [{ field: 'client_id', message: 'required' }],
      })
    scopeClient(c, clientId)
    const db = database(c.env.DB)
    const reader = readerId(person)
    const unread = await unreadCount(db, clientId, reader)
    if (unread === 0) return c.json({ success: true, marked: 0 })
    const now = clock.now()
    await db.batch([
      markAllRead(db, clientId, reader, now),
      auditEntry(
        c,
        db,
        {
          action: 'notifications.mark_all_read',
          clientId,
          targetType: 'notifications',
          targetId: reader,
          before: { unread },
          after: { unread: 0, read_at: now },
        },
        now,
      ),
    ])
    return c.json({ success: true, marked: unread })
  },
)

notificationRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/mark-read',
    summary: 'Mark one read (for the caller)',
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const db = database(c.env.DB)
    const [note] = await db
      .select()
      .from(notifications)
      .where(eq(notifications.id, c.req.param('id')))
      .limit(1)
    if (!note || (person.kind === 'user' && note.clientId !== person.clientId))
      throw new ApiError('NOT_FOUND', 'notification not found')
    const reader = readerId(person)
    const [read] = await db
      .select({ readAt: notificationReads.readAt })
      .from(notificationReads)
      .where(and(eq(notificationReads.notificationId, note.id), eq(notificationReads.userId, reader)))
      .limit(1)
    if (read) return c.json({ success: true })
    const now = clock.now()
    await db.batch([
      markRead(db, note.id, reader, now),
      auditEntry(
        c,
        db,
        {
          action: 'notifications.mark_read',
          clientId: note.clientId,
          targetType: 'notification',
          targetId: note.id,
          before: { read_at: null },
          after: { read_at: now },
        },
        now,
      ),
    ])
    return c.json({ success: true })
  },
)
