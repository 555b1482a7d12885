/**
 * Clients: created, suspended, reactivated and deleted by the operator, their webhook set by their
 * owner (each a statement for the caller's batch, beside its audit entry). And the growth snapshot: the hourly cron upserts today's row, so a day has a row only if the job
 * ran on it, and re-running within the day just refreshes the same row. Growth is read back from these
 * rows alone (db/queries/client-growth.ts): history is never reconstructed from today's tables.
 * Writes: `clients`, `client_daily`.
 */
import { and, count, countDistinct, eq, gte, inArray, ne } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents, clientDaily, clients, type Client } from '../db/schema'
import type { GrowthPoint } from '../db/queries/client-growth'
import { dayStart, utcDay } from '../ledger/rollup'

/** The insert of a new active client. */
export function insertClient(
  db: Database,
  client: { id: string; name: string; email: string | null },
  now: number,
) {
  return db.insert(clients).values({ ...client, status: 'active', createdAt: now, updatedAt: now })
}

/** The update of a client's status; `deleted` is for good (its tokens end with it: expireTokens). */
export function setClientStatus(db: Database, clientId: string, status: Client['status'], now: number) {
  return db.update(clients).set({ status, updatedAt: now }).where(eq(clients.id, clientId))
}

/** The update of a client's webhook: a URL and its secret change together (both null: no webhook). */
export function setClientWebhook(
  db: Database,
  clientId: string,
  webhook: { url: string | null; secret: string | null },
  now: number,
) {
  return db
    .update(clients)
    .set({ webhookUrl: webhook.url, webhookSecret: webhook.secret, updatedAt: now })
    .where(eq(clients.id, clientId))
}

/** Upserts today's snapshot: clients not deleted, of them created today, and with an agent heartbeat today. */
export async function snapshotClients(db: Database, now: number): Promise<GrowthPoint> {
  const date = utcDay(now)
  const from = dayStart(date)
  const live = ne(clients.status, 'deleted')
  const liveIds = db.select({ id: clients.id }).from(clients).where(live)
  const [[totals], [created], [active]] = await Promise.all([
    db.select({ n: count() }).from(clients).where(live),
    db
      .select({ n: count() })
      .from(clients)
      .where(and(live, gte(clients.createdAt, from))),
    db
      .select({ n: countDistinct(agents.clientId) })
      .from(agents)
      .where(and(gte(agents.lastHeartbeatAt, from), inArray(agents.clientId, liveIds))),
  ])
  const row = { total: totals?.n ?? 0, newClients: created?.n ?? 0, active: active?.n ?? 0 }
  await db
    .insert(clientDaily)
    .values({ day: date, ...row, computedAt: now })
    .onConflictDoUpdate({ target: clientDaily.day, set: { ...row, computedAt: now } })
  return { date, total: row.total, new: row.newClients, active: row.active }
}
