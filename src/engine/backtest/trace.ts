/**
 * A price trace on a regular grid: what every backtest strategy replays.
 * Prices are USD/h per pool and step (NaN: not known yet); events are the fleet's notices per AZ.
 */

export interface TraceEvent {
  /** Epoch ms. */
  at: number
  az: string
  kind: 'interruption' | 'rebalance'
  /** The instance type it struck; absent: the trace's own type (`Trace.instanceType`). */
  instanceType?: string
}

/** A spot pool: one instance type in one AZ. */
export interface TracePool {
  poolId: string
  az: string
  instanceType: string
}

export interface Trace {
  /** Epoch ms of step 0. */
  start: number
  stepMs: number
  steps: number
  /** The type the workload starts on. */
  instanceType: string
  /** On-demand price of `instanceType`, USD/h: the baseline and the on-demand placement of every row. */
  onDemand: number
  /** On-demand price of each type of the pools, USD/h (what the engine weighs a pool's price against). */
  onDemandByType: Record<string, number>
  /** The workload's allow-list of instance types (compatibility.ts); absent: the default rule. */
  allowedTypes?: readonly string[]
  /** Every pool is of a type the workload may run on. */
  pools: TracePool[]
  /** prices[pool][step], USD/h. */
  prices: Float64Array[]
  /** Sorted by time. */
  events: TraceEvent[]
}

/** Whether an event struck the pool at index `pool` (its AZ and type). */
export function eventInPool(trace: Trace, event: TraceEvent, pool: number): boolean {
  const p = trace.pools[pool]!
  return event.az === p.az && (event.instanceType ?? trace.instanceType) === p.instanceType
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
