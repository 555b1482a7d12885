/**
 * Prices at a moment, from the control plane's own history as one client sees it (db/queries/quotes.ts):
 * a pool's spot price is a step function (the last change point at or before the moment holds), on-demand
 * the last price known for the type and region. Every switch record is priced here: an agent's report
 * where it carries no prices, and a promotion (the control plane's own record) entirely.
 */
import type { Database } from '../client'
import { onDemandSeriesFor, spotSeriesFor } from './quotes'

/** The pool's spot price at `at` (epoch ms) for `clientId`, USD/h; null when none within the carry cap. */
export async function spotPriceAt(
  db: Database,
  clientId: string,
  poolId: string,
  at: number,
): Promise<number | null> {
  const series = await spotSeriesFor(db, clientId, [poolId], at, at)
  return (
    series
      .get(poolId)
      ?.filter((p) => p.at <= at)
      .at(-1)?.price ?? null
  )
}

/**
 * The on-demand price of a type in a region at `at` for `clientId`, USD/h: the last known at or before
 * it, else (a switch before the first report) the first known after it: on-demand prices change a few
 * times a year.
 */
export async function onDemandPriceAt(
  db: Database,
  clientId: string,
  instanceType: string,
  region: string,
  at: number,
): Promise<number | null> {
  const series = await onDemandSeriesFor(db, clientId, instanceType, region, Number.MAX_SAFE_INTEGER)
  return (series.filter((p) => p.at <= at).at(-1) ?? series[0])?.price ?? null
}

/** The market a switch is priced in: on-demand of its type and region, and each side's spot pool. */
export interface SwitchMarket {
  onDemand: number | null
  oldSpot: number | null
  newSpot: number | null
}

/** What to price, for whom (a null is not looked up: no pool on that side, or the price is known already). */
export interface SwitchMarketQuery {
  clientId: string
  instanceType: string | null
  region: string | null
  oldPoolId: string | null
  newPoolId: string | null
}

/** The switch's market at `at` (epoch ms), from history. */
export async function switchMarketAt(db: Database, q: SwitchMarketQuery, at: number): Promise<SwitchMarket> {
  const spotAt = (poolId: string | null) => (poolId ? spotPriceAt(db, q.clientId, poolId, at) : null)
  const [onDemand, oldSpot, newSpot] = await Promise.all([
    q.instanceType && q.region ? onDemandPriceAt(db, q.clientId, q.instanceType, q.region, at) : null,
    spotAt(q.oldPoolId),
    spotAt(q.newPoolId),
  ])
  return { onDemand, oldSpot, newSpot }
}
