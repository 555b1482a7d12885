/**
 * Delivers notifications to client webhooks from the 5-minute cron: the modules that insert
 * notifications stay unaware of webhooks. Each client has a cursor on the notifications' insertion
 * number (`seq`, never `created_at`: a notification written late with an earlier time is still sent);
 * a run sends what lies after it, in order, and advances it after every success. A failure stops that
 * client until the next run; notifications older than 24 h are skipped so a dead endpoint cannot hold a
 * backlog forever. Clients run side by side, a few at a time, each within its own time budget: one
 * slow endpoint delays only its own client.
 * Writes: `webhook_cursors`.
 */
import { and, asc, eq, gt, gte, isNotNull, ne, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { clients, notifications, webhookCursors } from '../../db/schema'
import { deliverWebhook, type DeliveryOptions, type WebhookEndpoint } from './deliver'

export const MAX_PER_CLIENT = 50
export const MAX_AGE_MS = 24 * 60 * 60 * 1000
/** Real time one client's deliveries may take in one run (ms). */
export const CLIENT_BUDGET_MS = 10_000
/** Clients delivered to at the same time (a Worker keeps at most 6 connections open). */
export const LANES = 4

export interface DispatchResult {
  delivered: number
  failedClients: number
}

export interface DispatchOptions extends DeliveryOptions {
  /** One client's budget (ms); CLIENT_BUDGET_MS unless a test says otherwise. */
  budgetMs?: number
  /** Resolves after `ms` of real time unless `cancel` fires first; tests inject it to end a budget. */
  wait?: (ms: number, cancel: AbortSignal) => Promise<void>
}

function realWait(ms: number, cancel: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    cancel.addEventListener('abort', () => clearTimeout(timer))
  })
}

/** The largest `seq` so far: a cursor at it sends only what comes next. */
const lastSeq = sql<number>`(select coalesce(max(${notifications.seq}), 0) from ${notifications})`

/**
 * The cursor of a client whose webhook was just set or changed: a new endpoint (with a new secret)
 * receives only what happens from now on, never the old history. Returns a statement for `db.batch`.
 */
export function resetWebhookCursor(db: Database, clientId: string, now: number) {
  const start = {
    deliveredSeq: lastSeq,
    deliveredUntil: now,
    deliveredId: '',
    lastError: null,
    updatedAt: now,
  }
  return db
    .insert(webhookCursors)
    .values({ clientId, ...start })
    .onConflictDoUpdate({ target: webhookCursors.clientId, set: start })
}

/** The cursor of a client whose webhook was removed: gone, as nothing is sent any more (for `db.batch`). */
export function dropWebhookCursor(db: Database, clientId: string) {
  return db.delete(webhookCursors).where(eq(webhookCursors.clientId, clientId))
}

interface Target extends WebhookEndpoint {
  clientId: string
  seq: number
}

/** One run over every client with a webhook; tests inject `fetcher` and `wait`. */
export async function dispatchWebhooks(
  db: Database,
  now: number,
  options: DispatchOptions,
): Promise<DispatchResult> {
  const rows = await db
    .select({
      clientId: clients.id,
      url: clients.webhookUrl,
      secret: clients.webhookSecret,
      seq: webhookCursors.deliveredSeq,
    })
    .from(clients)
    .leftJoin(webhookCursors, eq(webhookCursors.clientId, clients.id))
    .where(
      and(isNotNull(clients.webhookUrl), isNotNull(clients.webhookSecret), ne(clients.status, 'deleted')),
    )
  const result: DispatchResult = { delivered: 0, failedClients: 0 }
  const targets: Target[] = []
  for (const row of rows) {
    // A webhook set before cursors existed: start now rather than replay its history.
    if (row.seq === null) await resetWebhookCursor(db, row.clientId, now)
    else targets.push({ clientId: row.clientId, url: row.url!, secret: row.secret!, seq: row.seq })
  }
  const lane = async () => {
    for (let target = targets.shift(); target; target = targets.shift()) {
      const sent = await dispatchWithinBudget(db, target, now, options)
      result.delivered += sent.delivered
      if (!sent.ok) result.failedClients += 1
    }
  }
  await Promise.all(Array.from({ length: LANES }, lane))
  return result
}

/** One client's run, cut off when its budget is spent (its cursor then says so). */
async function dispatchWithinBudget(db: Database, target: Target, now: number, options: DispatchOptions) {
  const budget = { spent: false }
  const progress = { delivered: 0 }
  const done = new AbortController()
  const ended = (options.wait ?? realWait)(options.budgetMs ?? CLIENT_BUDGET_MS, done.signal).then(
    () => 'spent' as const,
  )
  const outcome = await Promise.race([dispatchClient(db, target, now, options, budget, progress), ended])
  done.abort()
  if (outcome !== 'spent') return outcome
  budget.spent = true
  await recordError(db, target.clientId, 'time budget of this run spent', now)
  return { delivered: progress.delivered, ok: false }
}

async function dispatchClient(
  db: Database,
  target: Target,
  now: number,
  options: DeliveryOptions,
  budget: { spent: boolean },
  progress: { delivered: number },
): Promise<{ delivered: number; ok: boolean }> {
  const pending = await db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.clientId, target.clientId),
        gt(notifications.seq, target.seq),
        gte(notifications.createdAt, now - MAX_AGE_MS),
      ),
    )
    .orderBy(asc(notifications.seq))
    .limit(MAX_PER_CLIENT)
  for (const n of pending) {
    if (budget.spent) break
    const outcome = await deliverWebhook(
      target,
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
      options,
    )
    // Past its budget the run has moved on: a late answer must not move the cursor under it.
    if (budget.spent) break
    if (!outcome.ok) {
      await recordError(db, target.clientId, outcome.detail, now)
      return { delivered: progress.delivered, ok: false }
    }
    await db
      .update(webhookCursors)
      .set({
        deliveredSeq: n.seq!,
        deliveredUntil: n.createdAt,
        deliveredId: n.id,
        lastError: null,
        updatedAt: now,
      })
      .where(eq(webhookCursors.clientId, target.clientId))
    progress.delivered += 1
  }
  return { delivered: progress.delivered, ok: true }
}

function recordError(db: Database, clientId: string, error: string, now: number) {
  return db
    .update(webhookCursors)
    .set({ lastError: error.slice(0, 500), updatedAt: now })
    .where(eq(webhookCursors.clientId, clientId))
}
