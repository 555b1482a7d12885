/**
 * Instance types with a fresh spot price in a region, for the switch options of an instance. "Fresh"
 * is the engine's own window (`price_fresh_minutes` of the active parameters), read from the pools' stamps.
 */
import { and, asc, eq, gte, isNotNull, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { pools } from '../schema'
import { activeParams } from './engine-params'

export async function freshTypesIn(db: Database, region: string, now: number): Promise<string[]> {
  const { params } = await activeParams(db)
  const since = now - params.price_fresh_minutes * 60_000
  const rows = await db
    .selectDistinct({ type: pools.instanceType })
    .from(pools)
    .where(
      and(
        eq(pools.region, region),
        isNotNull(pools.lastPrice),
        gte(sql`coalesce(${pools.lastReportedAt}, ${pools.priceChangedAt})`, since),
      ),
    )
    .orderBy(asc(pools.instanceType))
  return rows.map((r) => r.type)
}
