/**
 * The live days' reads: the usage segments since the rollup last ran (and when it ran), priced and
 * summed per agent and day by ledger/live.ts.
 */
import { and, eq, gte, isNull, lt, or, type SQL } from 'drizzle-orm'
import { liveRows, type LiveDays } from '../../ledger/live'
import { DAY_MS, ROLLUP_DAYS, dayStart, utcDay } from '../../ledger/rollup'
import type { Database } from '../client'
import { cronRuns, usageSegments } from '../schema'
import { loadPriceBook } from './price-book'
import { selectLedgerSegments } from './ledger-segments'

/** Segments of one client (null: every client). */
export const clientSegments = (clientId: string | null): SQL | undefined =>
  clientId === null ? undefined : eq(usageSegments.clientId, clientId)

/**
 * The days from `fromDay` (default: the one the rollup last ran in, whose row covers the day only up
 * to the run) through today, per agent, for the segments `where` selects.
 */
export async function liveDays(
  db: Database,
  where: SQL | undefined,
  now: number,
  fromDay?: string,
): Promise<LiveDays> {
  fromDay ??= await liveFromDay(db, now)
  const from = dayStart(fromDay)
  const segments = await selectLedgerSegments(db).where(
    and(
      where,
      lt(usageSegments.startedAt, now),
      or(isNull(usageSegments.endedAt), gte(usageSegments.endedAt, from)),
    ),
  )
  // Each client's segments priced as that client sees the market.
  const byClient = new Map<string, typeof segments>()
  for (const s of segments) byClient.set(s.clientId, [...(byClient.get(s.clientId) ?? []), s])
  const rows = await Promise.all(
    [...byClient].map(async ([clientId, mine]) =>
      liveRows(mine, await loadPriceBook(db, clientId, mine, from, now), fromDay, now),
    ),
  )
  return { fromDay, rows: rows.flat() }
}

/** The first day the rollup may not have finished: the day of its last run, at most ROLLUP_DAYS back. */
export async function liveFromDay(db: Database, now: number): Promise<string> {
  const [run] = await db.select().from(cronRuns).where(eq(cronRuns.job, 'ledger')).limit(1)
  // A run in progress (or failed) may have left its days half-written: count from the day before.
  const lastRun = run?.ok && run.startedAt <= now ? run.startedAt : now - DAY_MS
  return utcDay(Math.max(lastRun, now - (ROLLUP_DAYS - 1) * DAY_MS))
}
