/**
 * A backtest suite: every strategy over several traces of different character, one report row set per
 * trace. The engine is judged on all of them at once, so a parameter change that wins on one kind of
 * market and loses on another shows.
 */
import type { EngineParams } from '../params'
import { runBacktest, type BacktestReport, type StrategyRow } from './report'
import type { Trace } from './trace'

export interface NamedTrace {
  name: string
  trace: Trace
}

export interface SuiteEntry {
  trace: string
  strategies: StrategyRow[]
}

/** Told before and after each trace, so a caller can show progress (the runs take seconds each). */
export type SuiteProgress =
  | { kind: 'start'; index: number; total: number; name: string; trace: Trace }
  | { kind: 'done'; index: number; total: number; name: string; report: BacktestReport }

export function runSuite(
  traces: readonly NamedTrace[],
  params: EngineParams,
  progress: (p: SuiteProgress) => void = () => {},
): SuiteEntry[] {
  return traces.map(({ name, trace }, index) => {
    const total = traces.length
    progress({ kind: 'start', index, total, name, trace })
    const report = runBacktest(trace, params)
    progress({ kind: 'done', index, total, name, report })
    return { trace: name, strategies: report.strategies }
  })
}
