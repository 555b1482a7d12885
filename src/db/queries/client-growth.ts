/** Client growth as the daily snapshots recorded it (flows/clients.ts writes one row a day). */
import { and, asc, gte, lte } from 'drizzle-orm'
import { DAY_MS, dayStart, utcDay } from '../../ledger/rollup'
import type { Database } from '../client'
import { clientDaily } from '../schema'

export interface GrowthPoint {
  date: string
  total: number
  new: number
  active: number
}

/** The snapshots of the last `days` UTC days (today included), oldest first; days without one are absent. */
export async function clientGrowth(db: Database, days: number, now: number): Promise<GrowthPoint[]> {
  const today = utcDay(now)
  const first = utcDay(dayStart(today) - (days - 1) * DAY_MS)
  const rows = await db
    .select()
    .from(clientDaily)
    .where(and(gte(clientDaily.day, first), lte(clientDaily.day, today)))
    .orderBy(asc(clientDaily.day))
  return rows.map((r) => ({ date: r.day, total: r.total, new: r.newClients, active: r.active }))
}
