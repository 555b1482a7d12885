/**
 * Price history of every pool of an instance type and region, plus on-demand, as step functions.
 * Each series starts with the price in force at the start of the range (the last change point before
 * it) and keeps the last change point of each time bucket, so a 30-day chart stays a few hundred points.
 * A range longer than the 30 days of full resolution reads the hourly rollup for the hours it covers
 * (db/queries/hourly-prices.ts), the full-resolution rows after them.
 */
import { and, asc, eq } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { pools } from '../schema'
import type { PricePoint } from '../../ledger/series'
import { onDemandSeriesFor, spotSeriesFor } from './quotes'
import { hourlySeriesFor, rolledUntil } from './hourly-prices'
import { RAW_RETENTION_MS } from '../../prices/retention'

const DAY_MS = 24 * 3600_000

export const RANGES = {
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
  '90d': 90 * DAY_MS,
  '1y': 365 * DAY_MS,
} as const
export type RangeKey = keyof typeof RANGES
export const RANGE_KEYS = Object.keys(RANGES) as [RangeKey, ...RangeKey[]]

export const HistoryQuery = z.object({
  range: z.enum(RANGE_KEYS).optional(),
  /** Legacy: `days=7`. */
  days: z.coerce.number().int().min(1).max(30).optional(),
})

/** Bucket width per range: 5 minutes, 1 hour, 3 hours, 12 hours, a day. */
function bucketMs(spanMs: number): number {
  if (spanMs <= RANGES['24h']) return 5 * 60_000
  if (spanMs <= RANGES['7d']) return 3600_000
  if (spanMs <= RANGES['30d']) return 3 * 3600_000
  if (spanMs <= RANGES['90d']) return 12 * 3600_000
  return DAY_MS
}

export interface Point {
  /** Epoch ms. */
  t: number
  price: number
}

export interface PriceHistory {
  from: number
  to: number
  pools: { id: string; az: string; points: Point[] }[]
  onDemand: Point[]
}

/**
 * Price history of all pools of `instanceType` in `region` over [to - spanMs, to], as `clientId` sees
 * it (db/queries/quotes.ts): the prices its decisions were made on.
 */
export async function priceHistory(
  db: Database,
  clientId: string,
  instanceType: string,
  region: string,
  spanMs: number,
  to: number,
): Promise<PriceHistory> {
  const from = to - spanMs
  const bucket = bucketMs(spanMs)
  const known = await db
    .select({ id: pools.id, az: pools.az })
    .from(pools)
    .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
    .orderBy(asc(pools.id))
  const ids = known.map((p) => p.id)
  // Full resolution from where the rollup ends (rows before it may be gone), the rollup before that.
  const rolled = spanMs > RAW_RETENTION_MS ? ((await rolledUntil(db)) ?? from) : from
  const split = Math.min(Math.max(from, rolled), to)
  const [hourly, raw, onDemand] = await Promise.all([
    split > from ? hourlySeriesFor(db, clientId, ids, from, split) : new Map<string, PricePoint[]>(),
    spotSeriesFor(db, clientId, ids, split, to),
    onDemandSeriesFor(db, clientId, instanceType, region, to),
  ])
  const spot = new Map(ids.map((id) => [id, spliced(hourly.get(id) ?? [], raw.get(id) ?? [], split)]))
  return {
    from,
    to,
    pools: known.flatMap((p) => {
      const points = bucketed(spot.get(p.id) ?? [], from, bucket)
      return points.length === 0 ? [] : [{ id: p.id, az: p.az, points: extendTo(points, to) }]
    }),
    onDemand: extendTo(bucketed(onDemand, from, bucket), to),
  }
}

/**
 * One step function from the rollup's points before `split` and the full-resolution ones from it on
 * (the one in force at `split` moved to it).
 */
function spliced(hourly: readonly PricePoint[], raw: readonly PricePoint[], split: number): PricePoint[] {
  const inForce = raw.filter((p) => p.at <= split).at(-1)
  return [
    ...hourly.filter((p) => p.at < split),
    ...(inForce ? [{ at: split, price: inForce.price }] : []),
    ...raw.filter((p) => p.at > split),
  ]
}

/** The price in force at `from` (at `from`), then the last change point of each bucket after it. */
function bucketed(series: readonly PricePoint[], from: number, bucket: number): Point[] {
  const before = series.filter((p) => p.at <= from).at(-1)
  const last = new Map<number, Point>()
  for (const p of series) if (p.at > from) last.set(Math.floor(p.at / bucket), { t: p.at, price: p.price })
  return [...(before ? [{ t: from, price: before.price }] : []), ...last.values()]
}

/** The shortest time a chart spans, so a price first reported a minute ago still reads as a line. */
export const MIN_CHART_SPAN_MS = 30 * 60_000

/**
 * The history with its range starting where its data does: a young fleet's 24 h window otherwise draws
 * its prices as a sliver at the right edge. When no series has a price in force at the window's start,
 * the range starts at the first point or the instance's start (`startedAt`), whichever is earlier,
 * and spans at least `minSpanMs`.
 */
export function spanOfData(
  history: PriceHistory,
  startedAt: number | null,
  minSpanMs = MIN_CHART_SPAN_MS,
): PriceHistory {
  const firsts = [history.onDemand, ...history.pools.map((p) => p.points)].flatMap((s) =>
    s[0] ? [s[0].t] : [],
  )
  if (firsts.length === 0 || firsts.some((t) => t <= history.from)) return history
  const dataStart = Math.min(...firsts, startedAt ?? Number.POSITIVE_INFINITY)
  return { ...history, from: Math.max(history.from, Math.min(dataStart, history.to - minSpanMs)) }
}

/** A step function ends at `to` with its last value, so a stable price still draws a line. */
function extendTo(points: Point[], to: number): Point[] {
  const last = points.at(-1)
  return last && last.t < to ? [...points, { t: to, price: last.price }] : points
}

/** The legacy console's table shape: `{time, onDemand, pool_<id>}` rows (ISO times), one per change point. */
export function toLegacyRows(history: PriceHistory) {
  const times = new Set<number>([
    ...history.onDemand.map((p) => p.t),
    ...history.pools.flatMap((p) => p.points.map((q) => q.t)),
  ])
  const sorted = [...times].sort((a, b) => a - b)
  const valueAt = (points: Point[], t: number) => {
    let v: number | null = null
    for (const p of points) if (p.t <= t) v = p.price
    return v
  }
  return sorted.map((t) => {
    const row: Record<string, string | number | null> = {
      time: new Date(t).toISOString(),
      onDemand: valueAt(history.onDemand, t),
    }
    for (const p of history.pools) row[`pool_${p.id}`] = valueAt(p.points, t)
    return row
  })
}
