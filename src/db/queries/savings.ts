/**
 * Savings read from the ledger: its daily rollups (`savings_daily`) and, for the days since the rollup
 * last ran, the same computation over the usage segments up to now (ledger/live.ts): month-to-date,
 * projected month, lifetime, per month and per agent. Nothing here estimates: no usage, no number.
 */
import { and, eq, gte, inArray, lt } from 'drizzle-orm'
import { utcDay } from '../../ledger/rollup'
import type { Database } from '../client'
import { agents, savingsDaily } from '../schema'
import { agentSums, dailySums } from './breakdown'
import { withLiveDays, type LiveDays } from '../../ledger/live'
import { clientSegments, liveDays } from './live-days'
import { monthBounds, summarize, type DailyRow } from '../../ledger/summary'

export interface SavingsSummary {
  /** USD, null when the ledger has no day in the period. */
  monthToDate: number | null
  projectedMonth: number | null
  lifetime: number | null
  lifetimeBaseline: number | null
  /** Lifetime savings as % of the baseline. */
  percentSaved: number | null
}

/**
 * Month-to-date, projected month and lifetime savings, computed by the ledger's own `summarize` over
 * per-day sums, so the pages show exactly what the ledger's API answers. Null where there is no day.
 */
export function summarizeDays(rows: DailyRow[], now: number): SavingsSummary {
  if (rows.length === 0) {
    return {
      monthToDate: null,
      projectedMonth: null,
      lifetime: null,
      lifetimeBaseline: null,
      percentSaved: null,
    }
  }
  const s = summarize(rows, now)
  const [monthStart] = monthBounds(now)
  const hasMonth = rows.some((r) => r.day >= utcDay(monthStart))
  return {
    monthToDate: hasMonth ? s.month_to_date.savings : null,
    projectedMonth: hasMonth ? s.projected_month.savings : null,
    lifetime: s.lifetime.savings,
    lifetimeBaseline: s.lifetime.baseline,
    percentSaved: s.lifetime.percent_saved,
  }
}

/** The rollup's final days and the live ones of a scope (null: every client), read once per page. */
export interface LedgerDays {
  days: DailyRow[]
  live: LiveDays
}

export async function ledgerDays(db: Database, scope: string | null, now: number): Promise<LedgerDays> {
  const [rollup, live] = await Promise.all([dailySums(db, scope), liveDays(db, clientSegments(scope), now)])
  return { days: withLiveDays(rollup, live), live }
}

/** Baseline (on-demand) and actual cost per month, oldest first (legacy `{name,savings,onDemandCost,modelCost}`). */
export function monthlySavings(days: readonly DailyRow[], months = 12) {
  const byMonth = new Map<
    string,
    { name: string; savings: number; onDemandCost: number; modelCost: number }
  >()
  for (const d of days) {
    const name = d.day.slice(0, 7)
    const m = byMonth.get(name) ?? { name, savings: 0, onDemandCost: 0, modelCost: 0 }
    m.savings += d.savings
    m.onDemandCost += d.baseline
    m.modelCost += d.primary + d.replica + d.overlap
    byMonth.set(name, m)
  }
  return [...byMonth.values()].sort((a, b) => a.name.localeCompare(b.name)).slice(-months)
}

/** Savings per agent since a day (ISO date), largest first, with the agents' logical ids. */
export async function savingsByAgent(db: Database, scope: string | null, sinceDay: string, live: LiveDays) {
  const sums = (await agentSums(db, scope, sinceDay, live)).slice(0, 200)
  const names = new Map<string, string>()
  for (let i = 0; i < sums.length; i += 90) {
    const ids = sums.slice(i, i + 90).map((s) => s.agentId)
    for (const a of await db
      .select({ id: agents.id, logicalAgentId: agents.logicalAgentId })
      .from(agents)
      .where(inArray(agents.id, ids)))
      names.set(a.id, a.logicalAgentId)
  }
  return sums.map((s) => ({
    agentId: s.agentId,
    logicalAgentId: names.get(s.agentId) ?? null,
    savings: s.savings,
    baseline: s.baseline,
    replicaCost: s.replica,
  }))
}

/** Daily rows per agent for CSV export, oldest first: the rollup's final days, then the live ones. */
export async function dailySavingsRows(db: Database, scope: string, sinceDay: string, now: number) {
  const live = await liveDays(db, clientSegments(scope), now)
  const rollup = await db
    .select()
    .from(savingsDaily)
    .where(
      and(
        eq(savingsDaily.clientId, scope),
        gte(savingsDaily.day, sinceDay),
        lt(savingsDaily.day, live.fromDay),
      ),
    )
    .orderBy(savingsDaily.day, savingsDaily.agentId)
    .limit(20_000)
  const today = live.rows
    .filter((r) => r.day >= sinceDay)
    .sort((a, b) => a.day.localeCompare(b.day) || a.agentId.localeCompare(b.agentId))
    .map((r) => ({
      day: r.day,
      agentId: r.agentId,
      baselineCost: r.baseline,
      primaryCost: r.primary,
      replicaCost: r.replica,
      overlapCost: r.overlap,
      savings: r.savings,
    }))
  return [...rollup, ...today]
}
