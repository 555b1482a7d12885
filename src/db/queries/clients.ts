/** Client rows of the admin list and of `GET /api/client/:clientId`: counts and savings summed once per client. */
import { and, count, desc, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { CLIENT_STATUSES, clients, usageSegments } from '../schema'
import { liveDays, liveFromDay } from './live-days'
import type { LivenessSource } from './liveness'
import { likePattern, offsetOf, PageQuery, type PageOf } from './paging'

export const ClientListQuery = PageQuery.extend({ status: z.enum(CLIENT_STATUSES).optional() })
export type ClientListQuery = z.infer<typeof ClientListQuery>

export interface ClientRow {
  id: string
  name: string
  email: string | null
  status: string
  agentsOnline: number
  agentsTotal: number
  instances: number
  /** Lifetime savings from the ledger up to now, USD; null before anything ran. */
  totalSavings: number | null
  /** Newest agent heartbeat, epoch ms. */
  lastSync: number | null
  createdAt: number
}

/** The columns of a client row; `liveFrom`: savings of that day and later are computed live. */
const columnsOf = (liveFrom: string) => ({
  id: clients.id,
  name: clients.name,
  email: clients.email,
  status: clients.status,
  agentsOnline: sql<number>`(select count(*) from agents a where a.client_id = "clients"."id" and a.status = 'online')`,
  agentsTotal: sql<number>`(select count(*) from agents a where a.client_id = "clients"."id" and a.status != 'deleted')`,
  instances: sql<number>`(select count(*) from instances i where i.client_id = "clients"."id" and i.status = 'active')`,
  totalSavings: sql<
    number | null
  >`(select sum(s.savings) from savings_daily s where s.client_id = "clients"."id" and s.day < ${liveFrom})`,
  lastSync: sql<
    number | null
  >`(select max(a.last_heartbeat_at) from agents a where a.client_id = "clients"."id")`,
  // D1's heartbeat of a live agent is up to 5 minutes old: its object is asked (overlayLastSync).
  lastSyncAgentId: sql<
    string | null
  >`(select a.id from agents a where a.client_id = "clients"."id" and a.status in ('online', 'disabled') order by a.last_heartbeat_at desc limit 1)`,
  createdAt: clients.createdAt,
})

/** One page of clients (deleted ones hidden unless asked for by status). */
export async function listClients(
  db: Database,
  live: LivenessSource,
  q: ClientListQuery,
  now: number,
): Promise<PageOf<ClientRow>> {
  const liveFrom = await liveFromDay(db, now)
  const filters: (SQL | undefined)[] = [
    q.status ? eq(clients.status, q.status) : ne(clients.status, 'deleted'),
  ]
  if (q.search) {
    const p = likePattern(q.search)
    filters.push(
      or(
        sql`${clients.name} like ${p} escape '\\'`,
        sql`${clients.email} like ${p} escape '\\'`,
        sql`${clients.id} like ${p} escape '\\'`,
      ),
    )
  }
  const where = and(...filters)
  const [items, [total]] = await db.batch([
    db
      .select(columnsOf(liveFrom))
      .from(clients)
      .where(where)
      .orderBy(desc(clients.createdAt), clients.id)
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(clients).where(where),
  ])
  const current = await withLiveSavings(db, await overlayLastSync(live, items), liveFrom, now)
  return { items: current, total: total?.n ?? 0, page: q.page, limit: q.limit }
}

/** One client row, or null (deleted clients are gone for everyone). */
export async function clientRow(
  db: Database,
  live: LivenessSource,
  clientId: string,
  now: number,
): Promise<ClientRow | null> {
  const liveFrom = await liveFromDay(db, now)
  const [row] = await db
    .select(columnsOf(liveFrom))
    .from(clients)
    .where(and(eq(clients.id, clientId), ne(clients.status, 'deleted')))
    .limit(1)
  if (!row) return null
  const [current] = await withLiveSavings(db, await overlayLastSync(live, [row]), liveFrom, now)
  return current ?? null
}

/** Each client's lifetime savings with the days from `liveFrom` computed from its segments up to now. */
async function withLiveSavings(
  db: Database,
  rows: readonly ClientRow[],
  liveFrom: string,
  now: number,
): Promise<ClientRow[]> {
  if (rows.length === 0) return []
  const ids = rows.map((r) => r.id)
  const live = await liveDays(db, inArray(usageSegments.clientId, ids), now, liveFrom)
  return rows.map((r) => {
    const days = live.rows.filter((d) => d.clientId === r.id)
    if (days.length === 0) return r
    return { ...r, totalSavings: (r.totalSavings ?? 0) + days.reduce((t, d) => t + d.savings, 0) }
  })
}

/** Each client's last sync with its freshest live agent's last sign of life from that agent's object. */
async function overlayLastSync(
  live: LivenessSource,
  rows: readonly (ClientRow & { lastSyncAgentId: string | null })[],
): Promise<ClientRow[]> {
  const views = await live(
    rows.flatMap((r) => (r.lastSyncAgentId ? [{ agentId: r.lastSyncAgentId, clientId: r.id }] : [])),
  )
  return rows.map(({ lastSyncAgentId, ...r }) => {
    const seen = lastSyncAgentId ? views.get(lastSyncAgentId)?.lastSeenAt : undefined
    return seen === undefined ? r : { ...r, lastSync: Math.max(seen, r.lastSync ?? 0) }
  })
}
