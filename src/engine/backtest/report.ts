/** Runs every strategy over a trace and shapes the table printed and written to bench/results/backtest.json. */
import { effectiveThresholds, type EngineParams } from '../params'
import { optimum } from './optimum'
import { cheapestAt, simulate, type Caps, type RunResult } from './simulate'
import { activeStrategy, cheapestStrategy, legacyStrategy, onDemandStrategy } from './strategies'
import type { Trace } from './trace'

export interface StrategyRow {
  strategy: string
  total_cost: number
  savings_vs_ondemand_pct: number
  /** This row's savings over the optimum's (a fraction). */
  share_of_hindsight_optimum: number
  switches: number
  interruptions_hit: number
  cap_violations: number
}

export interface BacktestReport {
  trace: {
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

export function runBacktest(trace: Trace, params: EngineParams): BacktestReport {
  const t = effectiveThresholds(params)
  const caps: Caps = { perDay: t.max_switches_per_day, perWeek: t.max_switches_per_week }
  const runs: RunResult[] = [
    simulate(trace, activeStrategy(trace, params), caps),
    simulate(trace, onDemandStrategy, caps),
    simulate(trace, cheapestStrategy, caps),
    simulate(trace, legacyStrategy(trace), caps),
    optimum(trace, caps, cheapestAt(trace, 0)),
  ]
  const baseline = runs[1]!.total_cost
  const best = baseline - runs[4]!.total_cost
  return {
    trace: {
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
      share_of_hindsight_optimum: best > 0 ? round((baseline - r.total_cost) / best, 4) : 0,
      switches: r.switches,
      interruptions_hit: r.interruptions_hit,
      cap_violations: r.cap_violations,
    })),
  }
}

/** The report as a fixed-width table. */
export function formatTable(report: BacktestReport): string {
  const head = [
    'strategy',
    'total_cost',
    'savings_%',
    'of_optimum',
    'switches',
    'interrupted',
    'cap_violations',
  ]
  const rows = report.strategies.map((r) => [
    r.strategy,
    `$${r.total_cost.toFixed(4)}`,
    r.savings_vs_ondemand_pct.toFixed(2),
    `${(r.share_of_hindsight_optimum * 100).toFixed(1)} %`,
    String(r.switches),
    String(r.interruptions_hit),
    String(r.cap_violations),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line)].join('\n')
}
