/** Runs every strategy over a trace and shapes the table printed and written to bench/results/backtest.json. */
import { effectiveThresholds, type EngineParams } from '../params'
import { optimum } from './optimum'
import { simulate, startPool, type Caps, type RunResult } from './simulate'
import { activeStrategy, cheapestStrategy, legacyStrategy, onDemandStrategy } from './strategies'
import type { Trace } from './trace'

export interface StrategyRow {
  strategy: string
  total_cost: number
  /** Against on-demand of the type the workload started on, whatever type it ran later. */
  savings_vs_ondemand_pct: number
  /**
   * (ondemand − this) / (ondemand − optimum): this row's savings over the optimum's (a fraction); null
   * where the optimum saves less than MIN_OPTIMUM_SAVINGS (the share of a small saving says little).
   */
  share_of_hindsight_optimum: number | null
  switches: number
  interruptions_hit: number
  cap_violations: number
}

export interface BacktestReport {
  trace: {
    /** The type the workload starts on (its on-demand price is `on_demand`, the baseline). */
    instance_type: string
    start: string
    end: string
    steps: number
    step_minutes: number
    pools: string[]
    on_demand: number
    interruptions: number
  }
  caps: Caps
  strategies: StrategyRow[]
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits
const nullable = <T, U>(x: T | null, f: (x: T) => U): U | null => (x === null ? null : f(x))

/** The optimum's savings (a fraction of on-demand) from which a share of it is reported. */
export const MIN_OPTIMUM_SAVINGS = 0.2

/** (ondemand − cost) / (ondemand − optimum), or null where the optimum saves less than MIN_OPTIMUM_SAVINGS. */
export function shareOfOptimum(ondemand: number, cost: number, optimum: number): number | null {
  const best = ondemand - optimum
  return ondemand > 0 && best >= MIN_OPTIMUM_SAVINGS * ondemand ? (ondemand - cost) / best : null
}

export function runBacktest(trace: Trace, params: EngineParams): BacktestReport {
  const t = effectiveThresholds(params)
  const caps: Caps = { perDay: t.max_switches_per_day, perWeek: t.max_switches_per_week }
  const runs: RunResult[] = [
    simulate(trace, activeStrategy(trace, params), caps),
    simulate(trace, onDemandStrategy, caps),
    simulate(trace, cheapestStrategy, caps),
    simulate(trace, legacyStrategy(trace), caps),
    optimum(trace, caps, startPool(trace)),
  ]
  const baseline = runs[1]!.total_cost
  const share = (cost: number) => shareOfOptimum(baseline, cost, runs[4]!.total_cost)
  return {
    trace: {
      instance_type: trace.instanceType,
      start: new Date(trace.start).toISOString(),
      end: new Date(trace.start + trace.steps * trace.stepMs).toISOString(),
      steps: trace.steps,
      step_minutes: trace.stepMs / 60_000,
      pools: trace.pools.map((p) => p.poolId),
      on_demand: trace.onDemand,
      interruptions: trace.events.filter((e) => e.kind === 'interruption').length,
    },
    caps,
    strategies: runs.map((r) => ({
      strategy: r.strategy,
      total_cost: round(r.total_cost, 4),
      savings_vs_ondemand_pct: round(((baseline - r.total_cost) / baseline) * 100, 2),
      share_of_hindsight_optimum: nullable(share(r.total_cost), (x) => round(x, 4)),
      switches: r.switches,
      interruptions_hit: r.interruptions_hit,
      cap_violations: r.cap_violations,
    })),
  }
}

/** Report rows as a fixed-width table. */
export function formatTable(strategies: readonly StrategyRow[]): string {
  const head = [
    'strategy',
    'total_cost',
    'savings_%',
    'of_optimum',
    'switches',
    'interrupted',
    'cap_violations',
  ]
  const rows = strategies.map((r) => [
    r.strategy,
    `$${r.total_cost.toFixed(4)}`,
    r.savings_vs_ondemand_pct.toFixed(2),
    nullable(r.share_of_hindsight_optimum, (x) => `${(x * 100).toFixed(1)} %`) ?? '—',
    String(r.switches),
    String(r.interruptions_hit),
    String(r.cap_violations),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line)].join('\n')
}
