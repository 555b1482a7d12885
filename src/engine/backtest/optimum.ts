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
import { eventInPool, type Trace } from './trace'

const HOUR_MS = 3_600_000
/** 2,925 age states; an hour's work is linear in pools × age states (a switch's best source is kept per state). */
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

interface BlockRun {
  cost: number
  /** Where the hour ends (an interruption moves the workload to on-demand). */
  end: number
}

/** Per hour block and placement (index placement + 1): its run, and whether an interruption met it at the block's start. */
interface Blocks {
  perBlock: number
  runs: BlockRun[][]
  arriving: boolean[][]
}

/** What every plan reuses: the hour blocks' runs do not depend on the price of a switch. */
function blocksOf(trace: Trace): Blocks {
  const perBlock = Math.round(HOUR_MS / trace.stepMs)
  const count = Math.ceil(trace.steps / perBlock)
  const hitTimes = trace.pools.map((_, k) =>
    trace.events.filter((e) => e.kind === 'interruption' && eventInPool(trace, e, k)).map((e) => e.at),
  )
  const hit = (place: number, from: number, to: number) =>
    place !== ONDEMAND && hitTimes[place]!.some((t) => t > from && t <= to)
  const placements = Array.from({ length: trace.pools.length + 1 }, (_, i) => i - 1)
  const runs: BlockRun[][] = []
  const arriving: boolean[][] = []
  for (let b = 0; b < count; b++) {
    const from = b * perBlock
    const to = Math.min(trace.steps, from + perBlock)
    const now = trace.start + from * trace.stepMs
    runs.push(placements.map((q) => runBlock(trace, q, from, to, hit)))
    arriving.push(placements.map((p) => b > 0 && hit(p, now - trace.stepMs, now)))
  }
  return { perBlock, runs, arriving }
}

/** Cost of one hour block from `placement` (chosen at its start) and where it ends. */
function runBlock(
  trace: Trace,
  placement: number,
  from: number,
  to: number,
  hit: (place: number, from: number, to: number) => boolean,
): BlockRun {
  const stepHours = trace.stepMs / HOUR_MS
  let place = placement
  let cost = 0
  for (let step = from; step < to; step++) {
    const now = trace.start + step * trace.stepMs
    if (step > from && hit(place, now - trace.stepMs, now)) {
      cost += INTERRUPTION_HOURS * trace.onDemand
      place = ONDEMAND
    }
    cost += priceOf(trace, place, step) * stepHours
  }
  return { cost: Number.isNaN(cost) ? Number.POSITIVE_INFINITY : cost, end: place }
}

/**
 * The cheapest hourly plan (placement per hour) with switches priced at `lambda` extra. A switch's
 * cost splits into a part of where it leaves and a part of where it goes, so per age state the two
 * cheapest sources (of different placements left) serve every destination: linear in pools, not square.
 */
function plan(trace: Trace, caps: Caps, initial: number, lambda: number, blocks: Blocks): number[] {
  const ages = ageStates(Math.min(caps.perDay, TRACKED_PER_DAY), 24)
  const P = trace.pools.length + 1
  const S = ages.count
  const INF = Number.POSITIVE_INFINITY
  const slot = (place: number, s: number) => (place + 1) * S + s
  let value = new Float64Array(P * S).fill(INF)
  value[slot(initial, ages.count - 1)] = 0 // the last tuple is all-`window`: no switch yet
  const back: Int32Array[] = []
  const choice: Int8Array[] = []
  // per age state after a switch: the cheapest source, and the cheapest leaving another placement
  const [v1, v2] = [new Float64Array(S), new Float64Array(S)]
  const [h1, src1, src2] = [new Int32Array(S), new Int32Array(S), new Int32Array(S)]
  for (let b = 0; b < blocks.runs.length; b++) {
    const from = b * blocks.perBlock
    const runs = blocks.runs[b]!
    const next = new Float64Array(P * S).fill(INF)
    const prev = new Int32Array(P * S).fill(-1)
    const chose = new Int8Array(P * S)
    const relax = (target: number, total: number, source: number, q: number) => {
      if (total < next[target]!) [next[target], prev[target], chose[target]] = [total, source, q]
    }
    v1.fill(INF)
    v2.fill(INF)
    h1.fill(-2)
    for (let p = -1; p < P - 1; p++) {
      const arriving = blocks.arriving[b]![p + 1]!
      const here = arriving ? ONDEMAND : p
      const fee = arriving ? INTERRUPTION_HOURS * trace.onDemand : 0
      const stay = runs[here + 1]!
      const leave = OVERLAP_HOURS * priceOf(trace, here, from)
      for (let s = 0; s < S; s++) {
        const v = value[slot(p, s)]!
        if (v === INF) continue
        const source = slot(p, s)
        if (v + fee + stay.cost < INF)
          relax(slot(stay.end, ages.advance[s]!), v + fee + stay.cost, source, here)
        const s2 = ages.add[s]!
        const w = v + fee + leave
        if (s2 < 0 || !(w < INF)) continue
        if (here === h1[s2]) {
          if (w < v1[s2]!) [v1[s2], src1[s2]] = [w, source]
        } else if (w < v1[s2]!) {
          ;[v2[s2], src2[s2]] = [v1[s2]!, src1[s2]!]
          ;[v1[s2], h1[s2], src1[s2]] = [w, here, source]
        } else if (w < v2[s2]!) [v2[s2], src2[s2]] = [w, source]
      }
    }
    for (let s2 = 0; s2 < S; s2++) {
      if (v1[s2] === INF) continue
      for (let q = -1; q < P - 1; q++) {
        const [w, source]: [number, number] = q !== h1[s2] ? [v1[s2]!, src1[s2]!] : [v2[s2]!, src2[s2]!]
        const run = runs[q + 1]!
        const total = w + OVERLAP_HOURS * priceOf(trace, q, from) + lambda + run.cost
        if (total < INF) relax(slot(run.end, ages.advance[s2]!), total, source, q)
      }
    }
    back.push(prev)
    choice.push(chose)
    value = next
  }
  let best = 0
  for (let i = 1; i < value.length; i++) if (value[i]! < value[best]!) best = i
  const placements: number[] = new Array(blocks.runs.length)
  for (let b = blocks.runs.length - 1; b >= 0; b--) {
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

/**
 * The hindsight optimum's plan: the placement (pool index or ONDEMAND) chosen at the start of each hour
 * block, the cheapest that breaks no cap (the 7 d cap by a price per switch, raised until none breaks).
 */
export function optimumPlan(trace: Trace, caps: Caps, initial: number): number[] {
  const blocks = blocksOf(trace)
  const attempt = (lambda: number) => {
    const placements = plan(trace, caps, initial, lambda, blocks)
    const run = simulate(trace, replay(trace, placements, initial), caps)
    return { placements, feasible: capViolations(run.switchTimes, caps) === 0 }
  }
  const free = attempt(0)
  if (free.feasible) return free.placements
  let [lo, hi] = [0, trace.onDemand * 24]
  let found: number[] | null = null
  for (let i = 0; i < 14; i++) {
    const mid = (lo + hi) / 2
    const r = attempt(mid)
    if (r.feasible) [hi, found] = [mid, r.placements]
    else lo = mid
  }
  return found ?? attempt(hi).placements
}

/** The hindsight optimum's run. */
export function optimum(trace: Trace, caps: Caps, initial: number): RunResult {
  return simulate(trace, replay(trace, optimumPlan(trace, caps, initial), initial), caps)
}
