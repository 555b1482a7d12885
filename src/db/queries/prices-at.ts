/**
 * Prices at a moment, from the control plane's own history: a pool's spot price is a step function
 * (the last change point at or before the moment holds), on-demand the last price known for the type
 * and region. Every switch record is priced here: an agent's report where it carries no prices, and a
 * promotion (the control plane's own record) entirely.
 */
import { and, asc, desc, eq, gt, gte, lte } from 'drizzle-orm'
import type { Database } from '../client'
import { ondemandPrices, spotPrices } from '../schema'
import { SPOT_CARRY_CAP_MS } from '../../ledger/cost'

/** The pool's spot price at `at` (epoch ms), USD/h; null when no change point within the carry cap. */
export async function spotPriceAt(db: Database, poolId: string, at: number): Promise<number | null> {
  const [row] = await db
    .select({ price: spotPrices.price })
    .from(spotPrices)
    .where(
      and(
        eq(spotPrices.poolId, poolId),
        lte(spotPrices.observedAt, at),
        gte(spotPrices.observedAt, at - SPOT_CARRY_CAP_MS),
      ),
    )
    .orderBy(desc(spotPrices.observedAt))
    .limit(1)
  return row?.price ?? null
}

/**
 * The on-demand price of a type in a region at `at`, USD/h: the last known at or before it, else (a
 * switch before the first report) the first known after it: on-demand prices change a few times a year.
 */
export async function onDemandPriceAt(
  db: Database,
  instanceType: string,
  region: string,
  at: number,
): Promise<number | null> {
  const series = and(eq(ondemandPrices.instanceType, instanceType), eq(ondemandPrices.region, region))
  const [[before], [after]] = await db.batch([
    db
      .select({ price: ondemandPrices.price })
      .from(ondemandPrices)
      .where(and(series, lte(ondemandPrices.observedAt, at)))
      .orderBy(desc(ondemandPrices.observedAt))
      .limit(1),
    db
      .select({ price: ondemandPrices.price })
      .from(ondemandPrices)
      .where(and(series, gt(ondemandPrices.observedAt, at)))
      .orderBy(asc(ondemandPrices.observedAt))
      .limit(1),
  ])
  return before?.price ?? after?.price ?? null
}

/** The market a switch is priced in: on-demand of its type and region, and each side's spot pool. */
export interface SwitchMarket {
  onDemand: number | null
  oldSpot: number | null
  newSpot: number | null
}

/** What to price (a null is not looked up: no pool on that side, or the price is known already). */
export interface SwitchMarketQuery {
  instanceType: string | null
  region: string | null
  oldPoolId: string | null
  newPoolId: string | null
}

/** The switch's market at `at` (epoch ms), from history. */
export async function switchMarketAt(db: Database, q: SwitchMarketQuery, at: number): Promise<SwitchMarket> {
  const spotAt = (poolId: string | null) => (poolId ? spotPriceAt(db, poolId, at) : null)
  const [onDemand, oldSpot, newSpot] = await Promise.all([
    q.instanceType && q.region ? onDemandPriceAt(db, q.instanceType, q.region, at) : null,
    spotAt(q.oldPoolId),
    spotAt(q.newPoolId),
  ])
  return { onDemand, oldSpot, newSpot }
}
