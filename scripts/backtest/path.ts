/**
 * npx tsx scripts/backtest/path.ts --seed <S> --trace <name> [--params <json file | inline json>]
 * Where `active` loses against the hindsight optimum on one suite trace, hour by hour: each one's
 * placement at the hour's start, the cumulative cost gap (USD), every pool's price as a share of
 * on-demand, the hour's switches, and the engine's decision at the hour's start (target, blocks,
 * reason code). Writes nothing.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { optimumPlan } from '../../src/engine/backtest/optimum'
import { ONDEMAND, priceOf, simulate, startPool, type Strategy } from '../../src/engine/backtest/simulate'
import { activeStrategy } from '../../src/engine/backtest/strategies'
import type { Trace } from '../../src/engine/backtest/trace'
import { effectiveThresholds, resolveParams } from '../../src/engine/params'
import type { Decision } from '../../src/engine/types'
import { suiteTraces } from './suite'

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    trace: { type: 'string', default: 'volatile' },
    params: { type: 'string' },
  },
})

/** The placement a strategy runs each step in (after that step's decision). */
function placementsOf(trace: Trace, strategy: Strategy, caps: { perDay: number; perWeek: number }) {
  const placements = new Int32Array(trace.steps)
  const recording: Strategy = {
    ...strategy,
    decide: (v) => {
      const target = strategy.decide(v)
      placements[v.step] = target ?? v.placement
      return target
    },
  }
  return { placements, run: simulate(trace, recording, caps) }
}

const arg = values.params
const params = resolveParams(
  arg ? JSON.parse(arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8')) : {},
)
const named = suiteTraces(Number(values.seed)).find((t) => t.name === values.trace)
if (!named) throw new Error(`no trace ${values.trace} (calm, volatile, spikes, correlated, multi-type)`)
const trace = named.trace
const t = effectiveThresholds(params)
const caps = { perDay: t.max_switches_per_day, perWeek: t.max_switches_per_week }
const decisions: Decision[] = []
const active = placementsOf(
  trace,
  activeStrategy(trace, params, (step, d) => (decisions[step] = d)),
  caps,
)
const perHour = Math.round(3_600_000 / trace.stepMs)
const plan = optimumPlan(trace, caps, startPool(trace))
const best = placementsOf(
  trace,
  {
    name: 'optimum',
    decide: (v) =>
      v.step % perHour === 0 && plan[v.step / perHour] !== v.placement ? plan[v.step / perHour]! : null,
  },
  caps,
)
const nameOf = (p: number) => (p === ONDEMAND ? 'on-demand' : trace.pools[p]!.poolId)
console.log(
  `active $${active.run.total_cost.toFixed(4)}, optimum $${best.run.total_cost.toFixed(4)}; pools: ` +
    trace.pools.map((p) => p.poolId).join(' '),
)
let gap = 0
for (let h = 0; h * perHour < trace.steps; h++) {
  const steps = Array.from({ length: perHour }, (_, i) => h * perHour + i).filter((s) => s < trace.steps)
  for (const s of steps) {
    gap +=
      (priceOf(trace, active.placements[s]!, s) - priceOf(trace, best.placements[s]!, s)) *
      (trace.stepMs / 3_600_000)
  }
  const moves = (placements: Int32Array) =>
    steps.filter((s) => s > 0 && placements[s] !== placements[s - 1]).map((s) => `→${nameOf(placements[s]!)}`)
  const first = steps[0]!
  const d = decisions[first]
  const prices = trace.pools.map((_, k) => (priceOf(trace, k, first) / trace.onDemand).toFixed(2)).join(' ')
  const why = d
    ? `${d.decision} ${d.target?.poolId ?? d.target?.mode ?? '-'} [${d.blocked_by.join(',')}] ${d.reason_code ?? ''}`
    : ''
  console.log(
    [
      `h${h}`.padEnd(5),
      `active ${nameOf(active.placements[first]!)}`.padEnd(28),
      `optimum ${nameOf(best.placements[first]!)}`.padEnd(29),
      `gap $${gap.toFixed(3)}`.padEnd(11),
      prices,
      `active ${moves(active.placements).join(' ') || '-'}`,
      `optimum ${moves(best.placements).join(' ') || '-'}`,
      `| ${why}`,
    ].join('  '),
  )
}
