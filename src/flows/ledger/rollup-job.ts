/**
 * The daily rollup job: recomputes `savings_daily` for the last days from the segments and the price
 * history, so late reports and late-closed segments are absorbed. Per client = sum over agents.
 * Writes: `savings_daily`.
 */
import { and, eq, gte, isNull, lt, or } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { agents, savingsDaily, usageSegments } from '../../db/schema'
import { loadPriceBook } from '../../db/queries/price-book'
import { DAY_MS, ROLLUP_DAYS, dailySavings, dayStart, utcDay } from '../../ledger/rollup'
import { notifySavingsMilestones } from './milestones'
import { syncSegments } from './segments'
import { selectLedgerSegments } from '../../db/queries/ledger-segments'

/** Recomputes the agent's days from `fromDay` through today. */
export async function rollUpAgent(
  db: Database,
  agentId: string,
  clientId: string,
  fromDay: string,
  now: number,
): Promise<number> {
  const from = dayStart(fromDay)
  const segments = await selectLedgerSegments(db).where(
    and(
      eq(usageSegments.agentId, agentId),
      eq(usageSegments.clientId, clientId),
      lt(usageSegments.startedAt, now),
      or(isNull(usageSegments.endedAt), gte(usageSegments.endedAt, from)),
    ),
  )
  if (segments.length === 0) return 0
  const book = await loadPriceBook(db, clientId, segments, from, now)
  const rows = dailySavings(segments, book, fromDay, now)
  const statements: BatchItem<'sqlite'>[] = rows.map((r) => {
    const values = {
      baselineCost: r.baseline,
      primaryCost: r.primary,
      replicaCost: r.replica,
      overlapCost: r.overlap,
      savings: r.savings,
      computedAt: now,
    }
    return db
      .insert(savingsDaily)
      .values({ agentId, clientId, day: r.day, ...values })
      .onConflictDoUpdate({ target: [savingsDaily.agentId, savingsDaily.day], set: values })
  })
  await runBatch(db, statements)
  return rows.length
}

/**
 * Syncs every agent's segments, recomputes the last ROLLUP_DAYS days of every agent with usage, then
 * tells the clients' new savings milestones.
 */
export async function rollUpSavings(db: Database, now: number, days = ROLLUP_DAYS) {
  const fromDay = utcDay(now - (days - 1) * DAY_MS)
  const fleet = await db.select().from(agents)
  let rows = 0
  for (const agent of fleet) {
    await syncSegments(db, agent, now)
    rows += await rollUpAgent(db, agent.id, agent.clientId, fromDay, now)
  }
  return { agents: fleet.length, rows, milestones: await notifySavingsMilestones(db, now) }
}
