/** The engine's view of one pool after a risk signal: its risk now and, when too risky, a safer pool. */
import type { Database } from '../db/client'
import { chooseSafePool, type ChosenPool } from './choose-pool'
import { loadMarket } from './market'
import { activeParams } from './params-store'
import { poolRisk } from './risk'

export interface PoolAssessment {
  /** 0-1, as the engine computes it (the signal just recorded included). */
  risk: number
  threshold: number
  /** A pool to move to when the risk is above the threshold, else null. */
  saferPool: ChosenPool | null
}

/** Assesses a pool of the given type and region at `now`; null when the pool has no price yet. */
export async function assessPool(
  db: Database,
  pool: { poolId: string; instanceType: string; region: string },
  threshold: number | null,
  now: number,
): Promise<PoolAssessment | null> {
  const [{ params }, market] = await Promise.all([
    activeParams(db),
    loadMarket(db, pool.instanceType, pool.region, now),
  ])
  const quote = market.pools.find((p) => p.poolId === pool.poolId)
  if (!quote) return null
  const od = market.onDemandPrice ?? 3 * quote.price
  const risk = poolRisk(quote, od, params)
  const limit = threshold ?? params.risk_threshold
  const safer =
    risk > limit
      ? await chooseSafePool(
          db,
          { instanceType: pool.instanceType, region: pool.region, currentPoolId: pool.poolId },
          now,
        )
      : null
  return { risk, threshold: limit, saferPool: safer && safer.risk < risk ? safer : null }
}
