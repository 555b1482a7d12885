/** Loads the price histories a set of segments needs from D1 into a PriceBook. */
import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { ondemandPrices, spotPrices } from '../schema'
import { SPOT_CARRY_CAP_MS, type PriceBook, type Segment } from '../../ledger/cost'
import type { PricePoint } from '../../ledger/series'

/** Prices for [from, to) of every pool and type/region the segments use. */
export async function loadPriceBook(
  db: Database,
  segments: readonly Segment[],
  from: number,
  to: number,
): Promise<PriceBook> {
  const poolIds = [...new Set(segments.flatMap((s) => (s.mode === 'spot' && s.poolId ? [s.poolId] : [])))]
  const types = [...new Set(segments.map((s) => `${s.instanceType}|${s.region}`))]
  const spot = new Map<string, PricePoint[]>()
  for (let i = 0; i < poolIds.length; i += 90) {
    const chunk = poolIds.slice(i, i + 90)
    // The price in force at `from` (one index seek per pool), then every change point up to `to`:
    // reading the whole carry-forward week before `from` cost up to 2,016 rows per pool.
    const [inForce, changes] = await Promise.all([
      db.all<{ pool_id: string; at: number; price: number }>(sql`
        with p(id) as (values ${sql.join(
          chunk.map((id) => sql`(${id})`),
          sql`, `,
        )})
        select p.id as pool_id, s.observed_at as at, s.price as price from p
          join ${spotPrices} s on s.id = (
            select s2.id from ${spotPrices} s2
             where s2.pool_id = p.id and s2.observed_at <= ${sql.raw(String(Math.trunc(from)))}
               and s2.observed_at >= ${sql.raw(String(Math.trunc(from - SPOT_CARRY_CAP_MS)))}
             order by s2.observed_at desc limit 1)`),
      db
        .select({ poolId: spotPrices.poolId, at: spotPrices.observedAt, price: spotPrices.price })
        .from(spotPrices)
        .where(
          and(
            inArray(spotPrices.poolId, chunk),
            gt(spotPrices.observedAt, from),
            lte(spotPrices.observedAt, to),
          ),
        )
        .orderBy(asc(spotPrices.observedAt)),
    ])
    for (const r of inForce) spot.set(r.pool_id, [{ at: r.at, price: r.price }])
    for (const r of changes) spot.set(r.poolId, [...(spot.get(r.poolId) ?? []), { at: r.at, price: r.price }])
  }
  const onDemand = new Map<string, PricePoint[]>()
  for (const key of types) {
    const [type, region] = key.split('|') as [string, string]
    const rows = await db
      .select({ at: ondemandPrices.observedAt, price: ondemandPrices.price })
      .from(ondemandPrices)
      .where(
        and(
          eq(ondemandPrices.instanceType, type),
          eq(ondemandPrices.region, region),
          lte(ondemandPrices.observedAt, to),
        ),
      )
      .orderBy(asc(ondemandPrices.observedAt))
    onDemand.set(key, rows)
  }
  return {
    spot: (poolId) => spot.get(poolId) ?? [],
    onDemand: (type, region) => onDemand.get(`${type}|${region}`) ?? [],
  }
}
