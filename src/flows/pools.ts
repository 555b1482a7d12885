/**
 * The engine's view of pools for one client at `now`, over the market it sees and the active parameters
 * with the client's own risk weights: the safest pool to move to, and one pool's risk after a risk signal.
 */
import type { Database } from '../db/client'
import { loadMarket } from '../db/queries/market'
import { safestPool, type ChosenPool, type PoolWanted } from '../engine/choose-pool'
import { poolRisk } from '../engine/risk'
import { clientParams } from './risk-weights'

/**
 * The pool to use (engine/choose-pool.ts), or null when no other pool has a fresh price; among pools of
 * `otherTypes` too when given (types the workload may run on, engine/workload.ts).
 */
export async function chooseSafePool(
  db: Database,
  clientId: string,
  wanted: PoolWanted & { otherTypes?: readonly string[] },
  now: number,
): Promise<ChosenPool | null> {
  const [params, market] = await Promise.all([
    clientParams(db, clientId),
    loadMarket(db, clientId, wanted.instanceType, wanted.region, now, wanted.otherTypes),
  ])
  return safestPool(market, params, wanted, now)
}

export interface PoolAssessment {
  /** 0-1, as the engine computes it (the signal just recorded included). */
  risk: number
  threshold: number
  /** A pool to move to when the risk is above the threshold, else null. */
  saferPool: ChosenPool | null
}

/** Assesses a pool of the given type and region for a client at `now`; null when it sees no price. */
export async function assessPool(
  db: Database,
  clientId: string,
  pool: { poolId: string; instanceType: string; region: string },
  threshold: number | null,
  now: number,
): Promise<PoolAssessment | null> {
  const [params, market] = await Promise.all([
    clientParams(db, clientId),
    loadMarket(db, clientId, pool.instanceType, pool.region, now),
  ])
  const quote = market.pools.find((p) => p.poolId === pool.poolId)
  if (!quote) return null
  const od = market.onDemandPrice ?? 3 * quote.price
  const risk = poolRisk(quote, od, params)
  const limit = threshold ?? params.risk_threshold
  const safer =
    risk > limit
      ? safestPool(
          market,
          params,
          { instanceType: pool.instanceType, region: pool.region, currentPoolId: pool.poolId },
          now,
        )
      : null
  return { risk, threshold: limit, saferPool: safer && safer.risk < risk ? safer : null }
}
