/**
 * Prices at a moment, from the control plane's own history: a pool's spot price is a step function
 * (the last change point at or before the moment holds), on-demand the last price known for the type
 * and region. What a switch record falls back on when its report carries no prices.
 */
import { and, asc, desc, eq, gt, gte, lte } from 'drizzle-orm'
import type { Database } from '../db/client'
import { ondemandPrices, spotPrices } from '../db/schema'
import { SPOT_CARRY_CAP_MS } from '../ledger/cost'

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

/** Where an instance runs, as far as a switch record knows it. */
export interface Placement {
  mode: 'spot' | 'ondemand' | 'unknown' | null
  poolId: string | null
  instanceType: string | null
  region: string | null
}

/** What a placement paid per hour at `at`: its pool's spot price on spot, on-demand otherwise. */
export async function paidPriceAt(db: Database, placement: Placement, at: number): Promise<number | null> {
  if (placement.mode === 'spot') return placement.poolId ? spotPriceAt(db, placement.poolId, at) : null
  if (placement.mode === 'ondemand' && placement.instanceType && placement.region)
    return onDemandPriceAt(db, placement.instanceType, placement.region, at)
  return null
}
