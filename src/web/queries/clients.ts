/** Client rows of the admin list and of `GET /api/client/:clientId`: counts and savings summed once per client. */
import { and, count, desc, eq, ne, or, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../../db/client'
import { CLIENT_STATUSES, clients } from '../../db/schema'
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
  /** Lifetime savings from the ledger, USD; null before its first day. */
  totalSavings: number | null
  /** Newest agent heartbeat, epoch ms. */
  lastSync: number | null
  createdAt: number
}

const columns = {
  id: clients.id,
  name: clients.name,
  email: clients.email,
  status: clients.status,
  agentsOnline: sql<number>`(select count(*) from agents a where a.client_id = "clients"."id" and a.status = 'online')`,
  agentsTotal: sql<number>`(select count(*) from agents a where a.client_id = "clients"."id" and a.status != 'deleted')`,
  instances: sql<number>`(select count(*) from instances i where i.client_id = "clients"."id" and i.status = 'active')`,
  totalSavings: sql<
    number | null
  >`(select sum(s.savings) from savings_daily s where s.client_id = "clients"."id")`,
  lastSync: sql<
    number | null
  >`(select max(a.last_heartbeat_at) from agents a where a.client_id = "clients"."id")`,
  // D1's heartbeat of a live agent is up to 5 minutes old: its object is asked (overlayLastSync).
  lastSyncAgentId: sql<
    string | null
  >`(select a.id from agents a where a.client_id = "clients"."id" and a.status in ('online', 'disabled') order by a.last_heartbeat_at desc limit 1)`,
  createdAt: clients.createdAt,
}

/** One page of clients (deleted ones hidden unless asked for by status). */
export async function listClients(
  db: Database,
  live: LivenessSource,
  q: ClientListQuery,
): Promise<PageOf<ClientRow>> {
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
      .select(columns)
      .from(clients)
      .where(where)
      .orderBy(desc(clients.createdAt), clients.id)
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(clients).where(where),
  ])
  return { items: await overlayLastSync(live, items), total: total?.n ?? 0, page: q.page, limit: q.limit }
}

/** One client row, or null (deleted clients are gone for everyone). */
export async function clientRow(
  db: Database,
  live: LivenessSource,
  clientId: string,
): Promise<ClientRow | null> {
  const [row] = await db
    .select(columns)
    .from(clients)
    .where(and(eq(clients.id, clientId), ne(clients.status, 'deleted')))
    .limit(1)
  return row ? ((await overlayLastSync(live, [row]))[0] ?? null) : null
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
