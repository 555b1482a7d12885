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
