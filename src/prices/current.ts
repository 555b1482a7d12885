/**
 * What a placement costs per hour now, from the control plane's own market data: a pool's latest spot
 * price (the `pools` mirror of its newest change point) or the type's latest on-demand price. For
 * records the control plane writes itself (a promotion's switch), where no agent reported prices.
 */
import { inArray } from 'drizzle-orm'
import type { Database } from '../db/client'
import { pools } from '../db/schema'
import { latestOnDemandQuery } from './on-demand'

export interface PricesNow {
  onDemand: number | null
  /** Latest spot price per pool id asked for (absent: never priced). */
  spot: Map<string, number>
}

/** The on-demand price of the type and the latest spot price of each pool (null ids are skipped). */
export async function pricesNow(
  db: Database,
  instanceType: string | null,
  region: string | null,
  poolIds: (string | null)[],
): Promise<PricesNow> {
  const ids = [...new Set(poolIds.filter((p): p is string => p !== null))]
  const [onDemand, rows] = await Promise.all([
    instanceType && region ? latestOnDemandQuery(db, instanceType, region) : Promise.resolve([]),
    ids.length > 0
      ? db.select({ id: pools.id, price: pools.lastPrice }).from(pools).where(inArray(pools.id, ids))
      : Promise.resolve([]),
  ])
  const spot = new Map<string, number>()
  for (const row of rows) if (row.price !== null) spot.set(row.id, row.price)
  return { onDemand: onDemand[0]?.price ?? null, spot }
}

/** What a placement pays per hour: its pool's spot price on spot, the on-demand price otherwise. */
export function paidNow(prices: PricesNow, mode: string | null, poolId: string | null): number | null {
  if (mode === 'ondemand') return prices.onDemand
  if (mode === 'spot' && poolId) return prices.spot.get(poolId) ?? null
  return null
}
