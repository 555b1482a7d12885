/** Backtest reports of parameter versions as stored (flows/backtest.ts writes them). */
import { and, count, desc, eq, getTableColumns, inArray, lte, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { backtestRuns } from '../schema'
import type { StrategyRow } from '../../engine/backtest/report'
import type { BacktestInputs, BacktestRun } from '../../engine/backtest/stored'

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

/** The latest `perVersion` runs of each version, with each version's total, in one query. */
export async function latestRuns(
  db: Database,
  versions: number[],
  perVersion: number,
): Promise<Map<number, { items: BacktestRun[]; total: number }>> {
  const byVersion = new Map<number, { items: BacktestRun[]; total: number }>()
  if (versions.length === 0) return byVersion
  const t = backtestRuns
  const ranked = db
    .select({
      ...getTableColumns(t),
      rank: sql<number>`row_number() over (partition by ${t.paramsVersion} order by ${t.createdAt} desc, ${t.id} desc)`.as(
        'rank',
      ),
      total: sql<number>`count(*) over (partition by ${t.paramsVersion})`.as('total'),
    })
    .from(t)
    .where(inArray(t.paramsVersion, versions.slice(0, 90))) // D1: at most 100 bound parameters
    .as('ranked')
  const rows = await db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, perVersion))
    .orderBy(sql`"rank"`)
  for (const { rank: _rank, total, ...row } of rows) {
    const entry = byVersion.get(row.paramsVersion) ?? { items: [], total }
    entry.items.push(toRun(row))
    byVersion.set(row.paramsVersion, entry)
  }
  return byVersion
}
