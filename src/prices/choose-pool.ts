/**
 * Provisional pool choice (the engine will replace it with its risk-based choice): the cheapest
 * freshly priced pool of the same instance type and region, other than the current one.
 */
import { and, asc, eq, gte, isNotNull } from 'drizzle-orm'
import type { Database } from '../db/client'
import { pools } from '../db/schema'

/** A pool price older than this is not fresh enough to act on. */
export const PRICE_FRESH_MS = 60 * 60_000

export interface PoolWanted {
  instanceType: string
  region: string
  /** The current pool, never chosen. */
  currentPoolId: string | null
  preferredZones?: string[]
  excludeZones?: string[]
}

export interface ChosenPool {
  poolId: string
  instanceType: string
  region: string
  az: string
  price: number
}

/** The pool to use, or null when no other pool has a fresh price. Preferred zones win when priced. */
export async function chooseCheapestPool(
  db: Database,
  wanted: PoolWanted,
  now: number,
): Promise<ChosenPool | null> {
  const rows = await db
    .select()
    .from(pools)
    .where(
      and(
        eq(pools.instanceType, wanted.instanceType),
        eq(pools.region, wanted.region),
        isNotNull(pools.lastPrice),
        gte(pools.lastReportedAt, now - PRICE_FRESH_MS),
      ),
    )
    .orderBy(asc(pools.lastPrice), asc(pools.id))
  const excluded = new Set(wanted.excludeZones ?? [])
  const candidates = rows.filter((p) => p.id !== wanted.currentPoolId && !excluded.has(p.az))
  const preferred = new Set(wanted.preferredZones ?? [])
  const pick = candidates.find((p) => preferred.has(p.az)) ?? candidates[0]
  if (!pick || pick.lastPrice === null) return null
  return {
    poolId: pick.id,
    instanceType: pick.instanceType,
    region: pick.region,
    az: pick.az,
    price: pick.lastPrice,
  }
}

/** A known pool of this type and region (for a pool the client chose), or null. */
export async function findPool(db: Database, poolId: string) {
  const [pool] = await db.select().from(pools).where(eq(pools.id, poolId)).limit(1)
  return pool ?? null
}
