/** Client rows of the admin list and of `GET /api/client/:clientId`: counts and savings summed once per client. */
import { and, count, desc, eq, ne, or, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../../db/client'
import { CLIENT_STATUSES, clients } from '../../db/schema'
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
  createdAt: clients.createdAt,
}

/** One page of clients (deleted ones hidden unless asked for by status). */
export async function listClients(db: Database, q: ClientListQuery): Promise<PageOf<ClientRow>> {
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
  return { items, total: total?.n ?? 0, page: q.page, limit: q.limit }
}

/** One client row, or null (deleted clients are gone for everyone). */
export async function clientRow(db: Database, clientId: string): Promise<ClientRow | null> {
  const [row] = await db
    .select(columns)
    .from(clients)
    .where(and(eq(clients.id, clientId), ne(clients.status, 'deleted')))
    .limit(1)
  return row ?? null
}
