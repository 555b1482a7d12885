/**
 * The backtest's accounting, the same for every strategy. At each step: the fleet's events up to now are
 * applied (an interruption of the pool we are in moves us to on-demand at once, costs 15 minutes of
 * on-demand and is not counted against the caps); the strategy may switch (10 minutes of overlap billed
 * at both prices, counted against the rolling 24 h and 7 d caps); the step is billed at the placement's price.
 */
import { eventInPool, type Trace, type TraceEvent } from './trace'

export const ONDEMAND = -1
const HOUR_MS = 3_600_000
export const OVERLAP_HOURS = 10 / 60
export const INTERRUPTION_HOURS = 15 / 60

/** What a strategy sees at a step. `placement` is a pool index or ONDEMAND. */
export interface StepView {
  trace: Trace
  step: number
  now: number
  placement: number
  /** When the current placement started, epoch ms. */
  since: number
  /** The placement was imposed by an interruption, not chosen. */
  imposed: boolean
  /** Counted switches so far, epoch ms. */
  switchTimes: readonly number[]
  /** When the workload left spot for on-demand (an interruption or a switch), epoch ms. */
  spotExits: readonly number[]
}

export interface Strategy {
  name: string
  /** The placement to start in (default: `startPool`). */
  initial?: (trace: Trace) => number
  /** A new placement, or null to stay. */
  decide(view: StepView): number | null
}

export interface Caps {
  perDay: number
  perWeek: number
}

export interface RunResult {
  strategy: string
  total_cost: number
  switches: number
  interruptions_hit: number
  cap_violations: number
  switchTimes: number[]
}

/** Price of a placement at a step, USD/h (NaN when the pool has no price yet). */
export function priceOf(trace: Trace, placement: number, step: number): number {
  return placement === ONDEMAND ? trace.onDemand : trace.prices[placement]![step]!
}

/** The cheapest pool at a step (ONDEMAND when no pool is priced or all cost more). */
export function cheapestAt(trace: Trace, step: number): number {
  let best = ONDEMAND
  for (let k = 0; k < trace.pools.length; k++) {
    if (priceOf(trace, k, step) < priceOf(trace, best, step)) best = k
  }
  return best
}

/** Where every workload starts: the cheapest pool of the trace's own type at step 0 (else on-demand). */
export function startPool(trace: Trace): number {
  let best = ONDEMAND
  for (let k = 0; k < trace.pools.length; k++) {
    if (trace.pools[k]!.instanceType !== trace.instanceType) continue
    if (priceOf(trace, k, 0) < priceOf(trace, best, 0)) best = k
  }
  return best
}

/** How many of these switches break a rolling cap (a switch breaking both counts once). */
export function capViolations(times: readonly number[], caps: Caps): number {
  const sorted = [...times].sort((a, b) => a - b)
  let violations = 0
  sorted.forEach((t, i) => {
    const inWindow = (ms: number) => sorted.slice(0, i + 1).filter((u) => u > t - ms).length
    if (inWindow(24 * HOUR_MS) > caps.perDay || inWindow(168 * HOUR_MS) > caps.perWeek) violations++
  })
  return violations
}

/** The first interruption of the pool at index `placement` within (from, to]. */
function hits(
  events: readonly TraceEvent[],
  trace: Trace,
  placement: number,
  from: number,
  to: number,
): TraceEvent | undefined {
  if (placement === ONDEMAND) return undefined
  return events.find(
    (e) => e.kind === 'interruption' && eventInPool(trace, e, placement) && e.at > from && e.at <= to,
  )
}

/** Replays one strategy over the trace. */
export function simulate(trace: Trace, strategy: Strategy, caps: Caps): RunResult {
  const stepHours = trace.stepMs / HOUR_MS
  let placement = (strategy.initial ?? startPool)(trace)
  let since = trace.start
  let imposed = false
  let cost = 0
  let interruptionsHit = 0
  const switchTimes: number[] = []
  const spotExits: number[] = []
  const interruptions = trace.events.filter((e) => e.kind === 'interruption')
  let cursor = 0
  for (let step = 0; step < trace.steps; step++) {
    const now = trace.start + step * trace.stepMs
    const pending: TraceEvent[] = []
    while (cursor < interruptions.length && interruptions[cursor]!.at <= now)
      pending.push(interruptions[cursor++]!)
    const hit = hits(pending, trace, placement, Number.NEGATIVE_INFINITY, now)
    if (hit) {
      cost += INTERRUPTION_HOURS * trace.onDemand
      interruptionsHit++
      placement = ONDEMAND
      since = hit.at
      imposed = true
      spotExits.push(hit.at)
    }
    const view = { trace, step, now, placement, since, imposed, switchTimes, spotExits }
    const target = strategy.decide(view)
    if (target !== null && target !== placement && !Number.isNaN(priceOf(trace, target, step))) {
      cost += OVERLAP_HOURS * (priceOf(trace, placement, step) + priceOf(trace, target, step))
      switchTimes.push(now)
      if (target === ONDEMAND) spotExits.push(now)
      placement = target
      since = now
      imposed = false
    }
    const price = priceOf(trace, placement, step)
    cost += (Number.isNaN(price) ? trace.onDemand : price) * stepHours
  }
  return {
    strategy: strategy.name,
    total_cost: cost,
    switches: switchTimes.length,
    interruptions_hit: interruptionsHit,
    cap_violations: capViolations(switchTimes, caps),
    switchTimes,
  }
}
