/** Loads the price histories a client's segments need from D1 into a PriceBook, as that client sees them. */
import type { Database } from '../client'
import { baselineTypeOf, type PriceBook, type Segment } from '../../ledger/cost'
import type { PricePoint } from '../../ledger/series'
import { onDemandSeriesFor, spotSeriesFor } from './quotes'

/**
 * Prices for [from, to) of every pool and type/region the segments of `clientId` use (their baseline
 * types too): the price in force
 * at `from`, then every change point up to `to` (db/queries/quotes.ts).
 */
export async function loadPriceBook(
  db: Database,
  clientId: string,
  segments: readonly Segment[],
  from: number,
  to: number,
): Promise<PriceBook> {
  const poolIds = [...new Set(segments.flatMap((s) => (s.mode === 'spot' && s.poolId ? [s.poolId] : [])))]
  const types = [
    ...new Set(
      segments.flatMap((s) => [`${s.instanceType}|${s.region}`, `${baselineTypeOf(s)}|${s.region}`]),
    ),
  ]
  const [spot, onDemand] = await Promise.all([
    spotSeriesFor(db, clientId, poolIds, from, to),
    Promise.all(
      types.map(async (key) => {
        const [type, region] = key.split('|') as [string, string]
        return [key, await onDemandSeriesFor(db, clientId, type, region, to)] as const
      }),
    ).then((entries) => new Map<string, PricePoint[]>(entries)),
  ])
  return {
    spot: (poolId) => spot.get(poolId) ?? [],
    onDemand: (type, region) => onDemand.get(`${type}|${region}`) ?? [],
  }
}
