/** The activity feed (notifications and audit entries, newest first) and the audit log. */
import { and, count, desc, eq, like, lt, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { auditLog, notifications, users } from '../schema'
import { offsetOf, PageQuery, type PageOf } from './paging'

export const AuditQuery = PageQuery.extend({
  action: z.string().trim().max(80).optional(),
  clientId: z.string().trim().max(80).optional(),
})
export type AuditQuery = z.infer<typeof AuditQuery>

/** One page of the audit log, with the actor's e-mail when the actor is a user. */
export async function listAudit(db: Database, scope: string | null, q: AuditQuery) {
  const filters: (SQL | undefined)[] = [
    scope === null
      ? q.clientId
        ? eq(auditLog.clientId, q.clientId)
        : undefined
      : eq(auditLog.clientId, scope),
    q.action ? like(auditLog.action, `${q.action.replace(/[%_]/g, '')}%`) : undefined,
  ]
  const where = and(...filters)
  const [items, [total]] = await db.batch([
    db
      .select({ entry: auditLog, actorEmail: users.email })
      .from(auditLog)
      .leftJoin(users, eq(users.id, auditLog.actorId))
      .where(where)
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(auditLog).where(where),
  ])
  return {
    items: items.map((r) => ({ ...r.entry, actorEmail: r.actorEmail })),
    total: total?.n ?? 0,
    page: q.page,
    limit: q.limit,
  }
}

export interface ActivityItem {
  /** Stable: the id of the notification or audit entry. */
  id: string
  type: string
  severity: string
  text: string
  clientId: string | null
  time: number
}

/** Newest activity before `before` (epoch ms): notifications (errors included) merged with audit entries. */
export async function listActivity(
  db: Database,
  scope: string | null,
  limit: number,
  before: number,
): Promise<PageOf<ActivityItem>> {
  const [notes, audits] = await db.batch([
    db
      .select()
      .from(notifications)
      .where(
        and(
          scope === null ? undefined : eq(notifications.clientId, scope),
          lt(notifications.createdAt, before),
        ),
      )
      .orderBy(desc(notifications.createdAt))
      .limit(limit),
    db
      .select()
      .from(auditLog)
      .where(and(scope === null ? undefined : eq(auditLog.clientId, scope), lt(auditLog.createdAt, before)))
      .orderBy(desc(auditLog.createdAt))
      .limit(limit),
  ])
  const items: ActivityItem[] = [
    ...notes.map((n) => ({
      id: n.id,
      type: n.kind,
      severity: n.severity,
      text: n.message,
      clientId: n.clientId,
      time: n.createdAt,
    })),
    ...audits.map((a) => ({
      id: a.id,
      type: a.action,
      severity: a.action.endsWith('failed') ? 'warning' : 'info',
      text: `${a.actorType}${a.actorId ? ` ${a.actorId}` : ''}: ${a.action}${a.targetId ? ` ${a.targetType ?? ''} ${a.targetId}` : ''}`,
      clientId: a.clientId,
      time: a.createdAt,
    })),
  ]
    .sort((x, y) => y.time - x.time)
    .slice(0, limit)
  return { items, total: items.length, page: 1, limit }
}
