/**
 * Instance types with a fresh spot price in a region as a client sees it, for the switch options of an
 * instance. "Fresh" is the engine's own window (`price_fresh_minutes` of the active parameters).
 */
import { and, asc, eq, gte, or } from 'drizzle-orm'
import type { Database } from '../client'
import { pools, priceQuotes } from '../schema'
import { activeParams } from './engine-params'
import { pricesNow } from './quotes'

export async function freshTypesIn(
  db: Database,
  clientId: string,
  region: string,
  now: number,
): Promise<string[]> {
  const { params } = await activeParams(db)
  const since = now - params.price_fresh_minutes * 60_000
  // The pools anyone visible to this client reported lately; pricesNow decides which it sees.
  const candidates = await db
    .selectDistinct({ id: pools.id, type: pools.instanceType })
    .from(pools)
    .innerJoin(priceQuotes, eq(priceQuotes.series, pools.id))
    .where(
      and(
        eq(pools.region, region),
        gte(priceQuotes.reportedAt, since),
        or(eq(priceQuotes.clientId, clientId), eq(priceQuotes.shared, true)),
      ),
    )
    .orderBy(asc(pools.instanceType))
  const seen = await pricesNow(
    db,
    clientId,
    candidates.map((c) => c.id),
    now,
  )
  const fresh = candidates.filter((c) => (seen.get(c.id)?.reportedAt ?? 0) >= since).map((c) => c.type)
  return [...new Set(fresh)]
}
