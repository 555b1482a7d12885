/**
 * Reads for the 5.x report's `spot_history` (stored by flows/prices.ts): a client's own change points
 * of its pools from the one in force at a time on.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { spotPrices } from '../db/schema'
import type { PricePoint } from '../ledger/series'

// D1 binds at most 100 parameters per statement; each chunk binds its ids and four more.
const CHUNK = 80

/**
 * Each pool's change points reported by `clientId` from the one in force at `from` (epoch ms) on, in
 * time order; a pool without any is absent. One index seek per pool (spot_prices_pool_client_time).
 */
export async function ownSeriesSince(
  db: Database,
  clientId: string,
  poolIds: readonly string[],
  from: number,
): Promise<Map<string, PricePoint[]>> {
  const out = new Map<string, PricePoint[]>()
  const start = Math.trunc(from)
  for (let i = 0; i < poolIds.length; i += CHUNK) {
    const chunk = poolIds.slice(i, i + CHUNK)
    const rows = await db.all<{ poolId: string; at: number; price: number }>(sql`
      select s.pool_id as poolId, s.observed_at as at, s.price as price from ${spotPrices} s
      where s.reported_by_client_id = ${clientId} and s.pool_id in ${chunk}
        and s.observed_at >= coalesce((
          select max(s2.observed_at) from ${spotPrices} s2
          where s2.pool_id = s.pool_id and s2.reported_by_client_id = ${clientId} and s2.observed_at < ${start}
        ), ${start})
      order by s.observed_at, s.id`)
    for (const r of rows) out.set(r.poolId, [...(out.get(r.poolId) ?? []), { at: r.at, price: r.price }])
  }
  return out
}
