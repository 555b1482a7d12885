/**
 * The hindsight optimum under the caps, by dynamic programming over hourly decisions.
 * State: (placement, ages in hours of the last `perDay` counted switches), so the rolling 24 h cap is exact;
 * the rolling 7 d cap is met by a Lagrangian price per switch, raised until the plan breaks no cap.
 * The plan is then replayed through `simulate`, so its accounting is exactly every other row's.
 * The state space grows as C(24 + k, k) with k tracked switches, so at most TRACKED_PER_DAY are tracked:
 * above that the plan keeps a stricter 24 h cap (still feasible, possibly a little above the true optimum).
 */
import {
  capViolations,
  INTERRUPTION_HOURS,
  ONDEMAND,
  OVERLAP_HOURS,
  priceOf,
  simulate,
  type Caps,
  type RunResult,
  type Strategy,
} from './simulate'
import type { Trace } from './trace'

const HOUR_MS = 3_600_000
/** 2,925 age states: a 30-day plan over 6 pools takes about a second. */
const TRACKED_PER_DAY = 3

/** All sorted tuples of `size` ages in 0..window (window = no switch), with their transitions. */
function ageStates(size: number, window: number) {
  const tuples: number[][] = []
  const build = (prefix: number[], min: number) => {
    if (prefix.length === size) return void tuples.push(prefix)
    for (let a = min; a <= window; a++) build([...prefix, a], a)
  }
  build([], 0)
  const index = new Map(tuples.map((t, i) => [t.join(','), i]))
  const find = (t: number[]) => index.get([...t].sort((a, b) => a - b).join(','))!
  return {
    count: tuples.length,
    advance: tuples.map((t) => find(t.map((a) => Math.min(window, a + 1)))),
    // a switch now: age 0 replaces the expired slot (the largest age, `window`)
    add: tuples.map((t) => (t.every((a) => a < window) ? -1 : find([0, ...t.slice(0, -1)]))),
  }
}

/** Cost of one hour block from `placement` (chosen at its start) and where it ends (interrupted: on-demand). */
function runBlock(trace: Trace, placement: number, from: number, to: number) {
  const stepHours = trace.stepMs / HOUR_MS
  let place = placement
  let cost = 0
  for (let step = from; step < to; step++) {
    const now = trace.start + step * trace.stepMs
    if (step > from && hitBetween(trace, place, now - trace.stepMs, now)) {
      cost += INTERRUPTION_HOURS * trace.onDemand
      place = ONDEMAND
    }
    cost += priceOf(trace, place, step) * stepHours
  }
  return { cost: Number.isNaN(cost) ? Number.POSITIVE_INFINITY : cost, end: place }
}

function hitBetween(trace: Trace, place: number, from: number, to: number): boolean {
  if (place === ONDEMAND) return false
  const az = trace.pools[place]!.az
  return trace.events.some((e) => e.kind === 'interruption' && e.az === az && e.at > from && e.at <= to)
}

/** The cheapest hourly plan (placement per hour) with switches priced at `lambda` extra. */
function plan(trace: Trace, caps: Caps, initial: number, lambda: number): number[] {
  const perBlock = Math.round(HOUR_MS / trace.stepMs)
  const blocks = Math.ceil(trace.steps / perBlock)
  const ages = ageStates(Math.min(caps.perDay, TRACKED_PER_DAY), 24)
  const P = trace.pools.length + 1
  const S = ages.count
  const slot = (place: number, s: number) => (place + 1) * S + s
  let value = new Float64Array(P * S).fill(Number.POSITIVE_INFINITY)
  value[slot(initial, ages.count - 1)] = 0 // the last tuple is all-`window`: no switch yet
  const back: Int32Array[] = []
  const choice: Int8Array[] = []
  for (let b = 0; b < blocks; b++) {
    const from = b * perBlock
    const to = Math.min(trace.steps, from + perBlock)
    const now = trace.start + from * trace.stepMs
    const runs = Array.from({ length: P }, (_, q) => runBlock(trace, q - 1, from, to))
    const next = new Float64Array(P * S).fill(Number.POSITIVE_INFINITY)
    const prev = new Int32Array(P * S).fill(-1)
    const chose = new Int8Array(P * S)
    for (let p = -1; p < P - 1; p++) {
      const arriving = b > 0 && hitBetween(trace, p, now - trace.stepMs, now)
      const here = arriving ? ONDEMAND : p
      const fee = arriving ? INTERRUPTION_HOURS * trace.onDemand : 0
      for (let s = 0; s < S; s++) {
        const v = value[slot(p, s)]!
        if (v === Number.POSITIVE_INFINITY) continue
        for (let q = -1; q < P - 1; q++) {
          const isSwitch = q !== here
          const s2 = isSwitch ? ages.add[s]! : s
          if (s2 < 0) continue
          const price = isSwitch
            ? OVERLAP_HOURS * (priceOf(trace, here, from) + priceOf(trace, q, from)) + lambda
            : 0
          const total = v + fee + price + runs[q + 1]!.cost
          if (!(total < Number.POSITIVE_INFINITY)) continue
          const target = slot(runs[q + 1]!.end, ages.advance[s2]!)
          if (total < next[target]!) [next[target], prev[target], chose[target]] = [total, slot(p, s), q]
        }
      }
    }
    back.push(prev)
    choice.push(chose)
    value = next
  }
  let best = 0
  for (let i = 1; i < value.length; i++) if (value[i]! < value[best]!) best = i
  const placements: number[] = new Array(blocks)
  for (let b = blocks - 1; b >= 0; b--) {
    placements[b] = choice[b]![best]!
    best = back[b]![best]!
  }
  return placements
}

function replay(trace: Trace, placements: number[], initial: number): Strategy {
  const perBlock = Math.round(HOUR_MS / trace.stepMs)
  return {
    name: 'optimum',
    initial: () => initial,
    decide: (v) => {
      if (v.step % perBlock !== 0) return null
      const q = placements[v.step / perBlock]!
      return q === v.placement ? null : q
    },
  }
}

/** The hindsight optimum's run. */
export function optimum(trace: Trace, caps: Caps, initial: number): RunResult {
  const run = (lambda: number) =>
    simulate(trace, replay(trace, plan(trace, caps, initial, lambda), initial), caps)
  let result = run(0)
  if (capViolations(result.switchTimes, caps) === 0) return result
  let [lo, hi] = [0, trace.onDemand * 24]
  let feasible: RunResult | null = null
  for (let i = 0; i < 14; i++) {
    const mid = (lo + hi) / 2
    const r = run(mid)
    if (r.cap_violations === 0) [hi, feasible] = [mid, r]
    else lo = mid
  }
  result = feasible ?? run(hi)
  return result
}
