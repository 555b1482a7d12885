/**
 * Backtest reports of parameter versions in D1. Owns writes to `backtest_runs`.
 * `inputs` holds what was asked and the trace it became; `strategies` the report's table rows.
 */
import { and, count, desc, eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { backtestRuns } from '../db/schema'
import type { BacktestReport, StrategyRow } from './backtest/report'

export interface BacktestInputs {
  instance_type: string
  region: string
  days: number
  on_demand_price: number
  on_demand_source: 'stored' | 'request'
  trace: BacktestReport['trace']
  caps: BacktestReport['caps']
}

export interface BacktestRun {
  id: string
  params_version: number
  inputs: BacktestInputs
  strategies: StrategyRow[]
  created_by: string | null
  created_at: number
}

type Row = typeof backtestRuns.$inferSelect

function toRun(row: Row): BacktestRun {
  return {
    id: row.id,
    params_version: row.paramsVersion,
    inputs: row.inputs as BacktestInputs,
    strategies: row.strategies as StrategyRow[],
    created_by: row.createdBy,
    created_at: row.createdAt,
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

/** A version's runs, newest first, one page of them. */
export async function listRuns(
  db: Database,
  version: number,
  page: { limit: number; offset: number },
): Promise<{ items: BacktestRun[]; total: number }> {
  const where = eq(backtestRuns.paramsVersion, version)
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(backtestRuns)
      .where(where)
      .orderBy(desc(backtestRuns.createdAt), desc(backtestRuns.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ n: count() }).from(backtestRuns).where(where),
  ])
  return { items: rows.map(toRun), total: total?.n ?? 0 }
}

export async function findRun(db: Database, version: number, id: string): Promise<BacktestRun | null> {
  const [row] = await db
    .select()
    .from(backtestRuns)
    .where(and(eq(backtestRuns.paramsVersion, version), eq(backtestRuns.id, id)))
    .limit(1)
  return row ? toRun(row) : null
}
