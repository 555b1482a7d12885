/**
 * The hourly rollup of spot prices (flows/price-retention.ts writes it): how far it has gone, and the
 * prices a client sees from it, resolved as the full-resolution rows are (db/queries/quotes.ts).
 */
import { and, asc, eq, gte, inArray, lt, or } from 'drizzle-orm'
import type { Database } from '../client'
import { rollupCursors, spotPricesHourly } from '../schema'
import type { PricePoint } from '../../ledger/series'
import { resolveSeries } from '../../prices/resolve'
import { CARRY_CAP_MS, HOUR_MS } from '../../prices/retention'
import { byReporter } from './quotes'

/** The cursor's name of the spot price rollup. */
export const SPOT_ROLLUP = 'spot_prices_hourly'

const CHUNK = 90 // D1 binds at most 100 parameters per statement

/** Every hour before this (epoch ms) is rolled up; null before the first run that rolled one. */
export async function rolledUntil(db: Database): Promise<number | null> {
  const [row] = await db
    .select({ until: rollupCursors.until })
    .from(rollupCursors)
    .where(eq(rollupCursors.name, SPOT_ROLLUP))
    .limit(1)
  return row?.until ?? null
}

/**
 * Spot prices `clientId` sees over [from, to) per pool from the hourly rollup: each reporter's hours
 * as a step function (the hour's average from its start, its last price from its end) from the one in
 * force at `from` (within the carry cap) on, resolved at every step (prices/resolve.ts).
 */
export async function hourlySeriesFor(
  db: Database,
  clientId: string,
  poolIds: readonly string[],
  from: number,
  to: number,
): Promise<Map<string, PricePoint[]>> {
  const out = new Map<string, PricePoint[]>()
  for (let i = 0; i < poolIds.length; i += CHUNK) {
    const chunk = poolIds.slice(i, i + CHUNK)
    const rows = await db
      .select()
      .from(spotPricesHourly)
      .where(
        and(
          inArray(spotPricesHourly.poolId, chunk),
          gte(spotPricesHourly.hourAt, Math.trunc(from - CARRY_CAP_MS)),
          lt(spotPricesHourly.hourAt, Math.trunc(to)),
          or(
            eq(spotPricesHourly.reporter, clientId),
            eq(spotPricesHourly.shared, true),
            eq(spotPricesHourly.reporter, ''),
          ),
        ),
      )
      .orderBy(asc(spotPricesHourly.hourAt))
    for (const poolId of chunk) {
      const points = rows
        .filter((r) => r.poolId === poolId)
        .flatMap((r) => {
          const reporter = { clientId: r.reporter === '' ? null : r.reporter, shared: r.shared }
          return [
            { ...reporter, at: r.hourAt, price: r.avgPrice },
            { ...reporter, at: r.hourAt + HOUR_MS, price: r.lastPrice },
          ]
        })
      const series = byReporter(points.filter((p) => p.at < to)).map((s) => ({
        ...s,
        points: inForceFrom(s.points, from),
      }))
      const resolved = resolveSeries(series, clientId)
      if (resolved.length > 0) out.set(poolId, resolved)
    }
  }
  return out
}

/** A step function from the point in force at `from` (moved to `from`) on. */
function inForceFrom<P extends PricePoint>(points: readonly P[], from: number): P[] {
  const before = points.filter((p) => p.at <= from).at(-1)
  return [...(before ? [{ ...before, at: from }] : []), ...points.filter((p) => p.at > from)]
}
