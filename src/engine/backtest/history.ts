/**
 * A backtest trace from stored history (D1 rows of one instance type and region): each pool's price change
 * points resampled onto a grid from the first known price to `to`. Bounded so a run fits a Worker request:
 * at most MAX_STEPS steps (the step grows with the window) and MAX_POOLS pools.
 */
import { stepSeries, type Trace, type TraceEvent } from './trace'

/** 30 days of 5-minute steps; longer windows take coarser steps. */
export const MAX_STEPS = 8640
/** Room for 4 compatible types × 4 AZs; the optimum's work grows linearly with it. */
export const MAX_POOLS = 16
export const MIN_PRICE_POINTS = 2

/** Step sizes that divide an hour, as the optimum's hourly blocks need. */
const STEP_MINUTES = [5, 10, 15, 20, 30, 60]

export interface StoredHistory {
  instanceType: string
  onDemand: number
  /** The window, epoch ms. */
  from: number
  to: number
  pools: ReadonlyArray<{ poolId: string; az: string }>
  /** Change points in any order; one before `from` gives the pool's price at the window start. */
  prices: ReadonlyArray<{ poolId: string; price: number; at: number }>
  /** Interruptions and rebalances by AZ; those outside the trace are dropped. */
  events: readonly TraceEvent[]
}

export type HistoryTrace =
  { ok: true; trace: Trace } | { ok: false; reason: 'not_enough_history'; pricePoints: number; pools: number }

/** The smallest step (minutes) that keeps a span within MAX_STEPS. */
export function stepMinutesFor(spanMs: number): number {
  const fits = STEP_MINUTES.find((m) => Math.ceil(spanMs / (m * 60_000)) <= MAX_STEPS)
  return fits ?? STEP_MINUTES.at(-1)!
}

export function traceFromHistory(h: StoredHistory): HistoryTrace {
  const pools = [...h.pools].sort((a, b) => a.az.localeCompare(b.az)).slice(0, MAX_POOLS)
  const kept = new Set(pools.map((p) => p.poolId))
  const points = h.prices
    .filter((p) => kept.has(p.poolId) && p.at <= h.to && p.price > 0)
    .sort((a, b) => a.at - b.at)
    .map((p) => ({ ...p, at: Math.max(p.at, h.from) }))
  if (points.length < MIN_PRICE_POINTS)
    return { ok: false, reason: 'not_enough_history', pricePoints: points.length, pools: pools.length }
  const stepMs = stepMinutesFor(h.to - h.from) * 60_000
  // on the grid, at or after the first price: every strategy starts with a priced pool to choose
  const start = Math.ceil(points[0]!.at / stepMs) * stepMs
  const steps = Math.min(MAX_STEPS, Math.max(1, Math.ceil((h.to - start) / stepMs)))
  const end = start + steps * stepMs
  const azs = new Set(pools.map((p) => p.az))
  return {
    ok: true,
    trace: {
      start,
      stepMs,
      steps,
      onDemand: h.onDemand,
      instanceType: h.instanceType,
      onDemandByType: { [h.instanceType]: h.onDemand },
      pools: pools.map((p) => ({ poolId: p.poolId, az: p.az, instanceType: h.instanceType })),
      prices: pools.map((p) =>
        stepSeries(
          points.filter((q) => q.poolId === p.poolId),
          start,
          steps,
          stepMs,
        ),
      ),
      // an event before step 0 would otherwise strike at step 0
      events: h.events
        .filter((e) => azs.has(e.az) && e.at >= start && e.at < end)
        .sort((a, b) => a.at - b.at),
    },
  }
}
