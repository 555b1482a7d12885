/**
 * A backtest of one parameter version on the stored history of an instance type and region: loads the
 * rows, builds the trace and runs every strategy. Expected refusals are returned, not thrown.
 * Writes: `backtest_runs` (insertRun).
 */
import type { Database } from '../db/client'
import { MIN_PRICE_POINTS, traceFromHistory } from '../engine/backtest/history'
import { runBacktest, type BacktestReport } from '../engine/backtest/report'
import { backtestRuns } from '../db/schema'
import type { BacktestInputs, BacktestRun } from '../engine/backtest/stored'
import { latestOnDemandQuery } from '../db/queries/on-demand'
import { loadHistory } from '../db/queries/engine-history'
import type { EngineParams } from '../engine/params'

export interface BacktestRequest {
  instance_type: string
  region: string
  days: number
  /** USD/h; the latest stored on-demand price when absent. */
  on_demand_price?: number | null
}

export type StoredBacktest =
  | { ok: true; inputs: BacktestInputs; report: BacktestReport }
  | { ok: false; reason: 'no_on_demand_price' }
  | { ok: false; reason: 'not_enough_history'; price_points: number; pools: number; needed: number }

export async function backtestStoredHistory(
  db: Database,
  params: EngineParams,
  req: BacktestRequest,
  now: number,
): Promise<StoredBacktest> {
  const from = now - req.days * 86_400_000
  const [history, stored] = await Promise.all([
    loadHistory(db, req.instance_type, req.region, from, now),
    req.on_demand_price ? [] : latestOnDemandQuery(db, req.instance_type, req.region),
  ])
  const onDemand = req.on_demand_price ?? stored[0]?.price
  if (!onDemand) return { ok: false, reason: 'no_on_demand_price' }
  const built = traceFromHistory({ ...history, onDemand })
  if (!built.ok)
    return {
      ok: false,
      reason: 'not_enough_history',
      price_points: built.pricePoints,
      pools: built.pools,
      needed: MIN_PRICE_POINTS,
    }
  const report = runBacktest(built.trace, params)
  return {
    ok: true,
    report,
    inputs: {
      instance_type: req.instance_type,
      region: req.region,
      days: req.days,
      on_demand_price: onDemand,
      on_demand_source: req.on_demand_price ? 'request' : 'stored',
      trace: report.trace,
      caps: report.caps,
    },
  }
}

/** The insert of a run, to batch with its audit entry. */
export function insertRun(db: Database, run: BacktestRun) {
  return db.insert(backtestRuns).values({
    id: run.id,
    paramsVersion: run.params_version,
    instanceType: run.inputs.instance_type,
    region: run.inputs.region,
    days: run.inputs.days,
    inputs: run.inputs,
    strategies: run.strategies,
    createdBy: run.created_by,
    createdAt: run.created_at,
  })
}
