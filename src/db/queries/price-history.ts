/**
 * Price history of every pool of an instance type and region, plus on-demand, as step functions.
 * Each series starts with the price in force at the start of the range (the last change point before
 * it) and keeps the last change point of each time bucket, so a 30-day chart stays a few hundred points.
 */
import * as z from 'zod'

export const RANGES = { '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000, '30d': 30 * 24 * 3600_000 } as const
export type RangeKey = keyof typeof RANGES

export const HistoryQuery = z.object({
  range: z.enum(['24h', '7d', '30d']).optional(),
  /** Legacy: `days=7`. */
  days: z.coerce.number().int().min(1).max(30).optional(),
})

/** Bucket width per range: 5 minutes, 1 hour, 3 hours. */
function bucketMs(spanMs: number): number {
  if (spanMs <= RANGES['24h']) return 5 * 60_000
  if (spanMs <= RANGES['7d']) return 3600_000
  return 3 * 3600_000
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

/** Price history of all pools of `instanceType` in `region` over [to - spanMs, to]. */
export async function priceHistory(
  d1: D1Database,
  instanceType: string,
  region: string,
  spanMs: number,
  to: number,
): Promise<PriceHistory> {
  const from = to - spanMs
  const bucket = bucketMs(spanMs)
  // SQLite returns the bare column (price) of the row holding max(observed_at) in each group.
  const spot = d1
    .prepare(
      `select sp.pool_id as pool, p.az as az, max(sp.observed_at) as t, sp.price as price
         from pools p join spot_prices sp on sp.pool_id = p.id
        where p.instance_type = ?1 and p.region = ?2 and sp.observed_at > ?3 and sp.observed_at <= ?4
        group by sp.pool_id, sp.observed_at / ?5
       union all
       select p.id, p.az, ?3, (select sp.price from spot_prices sp where sp.pool_id = p.id and sp.observed_at <= ?3
                                order by sp.observed_at desc limit 1)
         from pools p where p.instance_type = ?1 and p.region = ?2
       order by 1, 3`,
    )
    .bind(instanceType, region, from, to, bucket)
  const od = d1
    .prepare(
      `select max(observed_at) as t, price from ondemand_prices
        where instance_type = ?1 and region = ?2 and observed_at > ?3 and observed_at <= ?4
        group by observed_at / ?5
       union all
       select ?3, (select price from ondemand_prices where instance_type = ?1 and region = ?2 and observed_at <= ?3
                    order by observed_at desc limit 1)
       order by 1`,
    )
    .bind(instanceType, region, from, to, bucket)
  const [spotRows, odRows] = await d1.batch<{ pool?: string; az?: string; t: number; price: number | null }>([
    spot,
    od,
  ])
  const byPool = new Map<string, { id: string; az: string; points: Point[] }>()
  for (const r of spotRows?.results ?? []) {
    if (!r.pool) continue
    const series = byPool.get(r.pool) ?? { id: r.pool, az: r.az ?? '', points: [] }
    byPool.set(r.pool, series)
    if (r.price !== null) series.points.push({ t: r.t, price: r.price })
  }
  const onDemand = (odRows?.results ?? []).flatMap((r) =>
    r.price === null ? [] : [{ t: r.t, price: r.price }],
  )
  return {
    from,
    to,
    pools: [...byPool.values()]
      .filter((p) => p.points.length > 0)
      .map((p) => ({ ...p, points: extendTo(p.points, to) })),
    onDemand: extendTo(onDemand, to),
  }
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
