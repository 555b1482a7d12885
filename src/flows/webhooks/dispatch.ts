/**
 * Delivers notifications to client webhooks from the 5-minute cron: the modules that insert
 * notifications stay unaware of webhooks. Each client has a cursor in (created_at, id) order; a run
 * sends what lies after it, oldest first, and advances it after every success. A failure stops that
 * client until the next run, and notifications older than 24 h are skipped so a dead endpoint cannot
 * hold a backlog forever.
 * Writes: `webhook_cursors`.
 */
import { and, asc, eq, gt, gte, isNotNull, ne, or } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { clients, notifications, webhookCursors } from '../../db/schema'
import { deliverWebhook } from './deliver'

export const MAX_PER_CLIENT = 50
export const MAX_AGE_MS = 24 * 60 * 60 * 1000

export interface DispatchResult {
  delivered: number
  failedClients: number
}

/**
 * The cursor of a client whose webhook was just set or changed: a new endpoint (with a new secret)
 * receives only what happens from now on, never the old history. Returns a statement for `db.batch`.
 */
export function resetWebhookCursor(db: Database, clientId: string, now: number) {
  const start = { deliveredUntil: now, deliveredId: '', lastError: null, updatedAt: now }
  return db
    .insert(webhookCursors)
    .values({ clientId, ...start })
    .onConflictDoUpdate({ target: webhookCursors.clientId, set: start })
}

/** The cursor of a client whose webhook was removed: gone, as nothing is sent any more (for `db.batch`). */
export function dropWebhookCursor(db: Database, clientId: string) {
  return db.delete(webhookCursors).where(eq(webhookCursors.clientId, clientId))
}

/** One run over every client with a webhook; `fetcher` is injected by tests. */
export async function dispatchWebhooks(
  db: Database,
  now: number,
  fetcher: typeof fetch = fetch,
): Promise<DispatchResult> {
  const targets = await db
    .select({
      clientId: clients.id,
      until: webhookCursors.deliveredUntil,
      lastId: webhookCursors.deliveredId,
    })
    .from(clients)
    .leftJoin(webhookCursors, eq(webhookCursors.clientId, clients.id))
    .where(
      and(isNotNull(clients.webhookUrl), isNotNull(clients.webhookSecret), ne(clients.status, 'deleted')),
    )
  const result: DispatchResult = { delivered: 0, failedClients: 0 }
  for (const target of targets) {
    if (target.until === null || target.lastId === null) {
      // A webhook set before cursors existed: start now rather than replay its history.
      await resetWebhookCursor(db, target.clientId, now)
      continue
    }
    const sent = await dispatchClient(db, target.clientId, target.until, target.lastId, now, fetcher)
    result.delivered += sent.delivered
    if (!sent.ok) result.failedClients += 1
  }
  return result
}

async function dispatchClient(
  db: Database,
  clientId: string,
  until: number,
  lastId: string,
  now: number,
  fetcher: typeof fetch,
): Promise<{ delivered: number; ok: boolean }> {
  const pending = await db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.clientId, clientId),
        or(
          gt(notifications.createdAt, until),
          and(eq(notifications.createdAt, until), gt(notifications.id, lastId)),
        ),
        gte(notifications.createdAt, now - MAX_AGE_MS),
      ),
    )
    .orderBy(asc(notifications.createdAt), asc(notifications.id))
    .limit(MAX_PER_CLIENT)
  let delivered = 0
  for (const n of pending) {
    const outcome = await deliverWebhook(
      db,
      {
        id: n.id,
        kind: n.kind,
        severity: n.severity,
        message: n.message,
        clientId: n.clientId,
        agentId: n.agentId,
        createdAt: new Date(n.createdAt).toISOString(),
      },
      now,
      fetcher,
    )
    if (!outcome.ok) {
      const error = outcome.status ? `HTTP ${outcome.status}` : (outcome.message ?? outcome.reason)
      await db
        .update(webhookCursors)
        .set({ lastError: error.slice(0, 500), updatedAt: now })
        .where(eq(webhookCursors.clientId, clientId))
      return { delivered, ok: false }
    }
    await db
      .update(webhookCursors)
      .set({ deliveredUntil: n.createdAt, deliveredId: n.id, lastError: null, updatedAt: now })
      .where(eq(webhookCursors.clientId, clientId))
    delivered += 1
  }
  return { delivered, ok: true }
}
