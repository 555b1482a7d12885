/**
 * A price trace on a regular grid: what every backtest strategy replays.
 * Prices are USD/h per pool and step (NaN: not known yet); events are the fleet's notices per AZ.
 */

export interface TraceEvent {
  /** Epoch ms. */
  at: number
  az: string
  kind: 'interruption' | 'rebalance'
}

export interface Trace {
  /** Epoch ms of step 0. */
  start: number
  stepMs: number
  steps: number
  onDemand: number
  instanceType: string
  pools: Array<{ poolId: string; az: string }>
  /** prices[pool][step], USD/h. */
  prices: Float64Array[]
  /** Sorted by time. */
  events: TraceEvent[]
}

/**
 * A step function sampled on a grid: at each step the last change point at or before it (NaN before the
 * first). `points` sorted by time; times epoch ms.
 */
export function stepSeries(
  points: ReadonlyArray<{ at: number; price: number }>,
  start: number,
  steps: number,
  stepMs: number,
): Float64Array {
  const series = new Float64Array(steps).fill(Number.NaN)
  let j = -1
  for (let i = 0; i < steps; i++) {
    const t = start + i * stepMs
    while (j + 1 < points.length && points[j + 1]!.at <= t) j++
    if (j >= 0) series[i] = points[j]!.price
  }
  return series
}
