/**
 * Savings read from the ledger's daily rollups (`savings_daily`, written by the ledger): month-to-date,
 * projected month, lifetime, per month and per agent. Nothing here estimates: no rollup, no number.
 */
import { and, desc, eq, gte, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents, savingsDaily } from '../../db/schema'
import { dailySums } from '../../ledger/breakdown'
import { monthBounds, summarize, type DailyRow } from '../../ledger/summary'
import { isoDay } from './instance-detail'

export interface SavingsSummary {
  /** USD, null when the ledger has no day in the period. */
  monthToDate: number | null
  projectedMonth: number | null
  lifetime: number | null
  lifetimeBaseline: number | null
  /** Lifetime savings as % of the baseline. */
  percentSaved: number | null
}

const clientOrAll = (scope: string | null) => (scope === null ? undefined : eq(savingsDaily.clientId, scope))

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
  const hasMonth = rows.some((r) => r.day >= isoDay(monthStart))
  return {
    monthToDate: hasMonth ? s.month_to_date.savings : null,
    projectedMonth: hasMonth ? s.projected_month.savings : null,
    lifetime: s.lifetime.savings,
    lifetimeBaseline: s.lifetime.baseline,
    percentSaved: s.lifetime.percent_saved,
  }
}

export async function savingsSummary(
  db: Database,
  scope: string | null,
  now: number,
): Promise<SavingsSummary> {
  return summarizeDays(await dailySums(db, scope), now)
}

/** Baseline (on-demand) and actual cost per month, oldest first (legacy `{name,savings,onDemandCost,modelCost}`). */
export async function monthlySavings(db: Database, scope: string | null, months = 12) {
  const rows = await db
    .select({
      name: sql<string>`substr(${savingsDaily.day}, 1, 7)`,
      savings: sql<number>`sum(${savingsDaily.savings})`,
      onDemandCost: sql<number>`sum(${savingsDaily.baselineCost})`,
      modelCost: sql<number>`sum(${savingsDaily.primaryCost} + ${savingsDaily.replicaCost} + ${savingsDaily.overlapCost})`,
    })
    .from(savingsDaily)
    .where(clientOrAll(scope))
    .groupBy(sql`1`)
    .orderBy(desc(sql`1`))
    .limit(months)
  return rows.reverse()
}

/** Savings per agent since a day (ISO date), largest first. */
export async function savingsByAgent(db: Database, scope: string | null, sinceDay: string) {
  return db
    .select({
      agentId: savingsDaily.agentId,
      logicalAgentId: agents.logicalAgentId,
      savings: sql<number>`sum(${savingsDaily.savings})`,
      baseline: sql<number>`sum(${savingsDaily.baselineCost})`,
      replicaCost: sql<number>`sum(${savingsDaily.replicaCost})`,
    })
    .from(savingsDaily)
    .leftJoin(agents, eq(agents.id, savingsDaily.agentId))
    .where(and(clientOrAll(scope), gte(savingsDaily.day, sinceDay)))
    .groupBy(savingsDaily.agentId)
    .orderBy(desc(sql`3`))
    .limit(200)
}

/** Daily rows for CSV export, oldest first. */
export async function dailySavingsRows(db: Database, scope: string, sinceDay: string) {
  return db
    .select()
    .from(savingsDaily)
    .where(and(eq(savingsDaily.clientId, scope), gte(savingsDaily.day, sinceDay)))
    .orderBy(savingsDaily.day, savingsDaily.agentId)
    .limit(20_000)
}
