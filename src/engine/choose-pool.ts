/**
 * The safest cheap pool for a replica or an explicit "go spot": among the fresh pools of the type and
 * region (never the current one; excluded zones honoured; preferred zones first when any qualifies),
 * the lowest risk-adjusted price, preferring pools within the risk threshold.
 */
import { poolExclusion } from './decide'
import type { EngineParams } from './params'
import { poolRisk } from './risk'
import type { Market, PoolQuote } from './types'
import { expectedPrice, riskAdjustedCost } from './value'

export interface PoolWanted {
  instanceType: string
  region: string
  /** The current pool, never chosen. */
  currentPoolId: string | null
  preferredZones?: string[]
  excludeZones?: string[]
  /** A stateful workload's AZ: pools elsewhere are never chosen (decide.ts poolExclusion). */
  statefulAz?: string
}

export interface ChosenPool {
  poolId: string
  instanceType: string
  region: string
  az: string
  price: number
  risk: number
}

/** The pool to use in `market` (of the wanted type and region), or null when no other pool has a fresh price. */
export function safestPool(
  market: Market,
  params: EngineParams,
  wanted: PoolWanted,
  now: number,
): ChosenPool | null {
  // Without a known on-demand price, three times the dearest pool stands in for the risk scale.
  const od = market.onDemandPrice ?? 3 * Math.max(0, ...market.pools.map((p) => p.price))
  const where = {
    now,
    currentPoolId: wanted.currentPoolId,
    excludedZones: wanted.excludeZones,
    statefulAz: wanted.statefulAz,
  }
  const scored = market.pools
    .filter((p) => poolExclusion(p, where, params) === null)
    .map((p) => ({ pool: p, risk: poolRisk(p, p.onDemandPrice ?? od, params) }))
    .map((s) => ({
      ...s,
      cost: riskAdjustedCost(
        {
          placement: { mode: 'spot', poolId: s.pool.poolId },
          price: s.pool.price,
          expected: expectedPrice(s.pool, params),
          risk: s.risk,
          quote: s.pool,
        },
        od,
        params,
      ),
    }))
  const preferred = scored.filter((s) => wanted.preferredZones?.includes(s.pool.az))
  const field = preferred.length > 0 ? preferred : scored
  const safe = field.filter((s) => s.risk <= params.risk_threshold)
  const best = (safe.length > 0 ? safe : field).sort(
    (a, b) => a.cost - b.cost || a.pool.poolId.localeCompare(b.pool.poolId),
  )[0]
  return best ? chosen(best.pool, wanted, best.risk) : null
}

function chosen(pool: PoolQuote, wanted: PoolWanted, risk: number): ChosenPool {
  return {
    poolId: pool.poolId,
    instanceType: pool.instanceType ?? wanted.instanceType,
    region: wanted.region,
    az: pool.az,
    price: pool.price,
    risk,
  }
}
