/**
 * The ledger as of now. The hourly rollup leaves `savings_daily` up to an hour behind (a new agent has
 * no row at all for its first hour), so the days since the rollup's last run are computed at read time
 * from the usage segments, open ones up to `now`, exactly as the rollup computes them. Reads only.
 */
import { and, eq, gte, isNull, lt, or, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client'
import { cronRuns, usageSegments } from '../db/schema'
import { loadPriceBook } from './price-book'
import { clip, type Segment } from './cost'
import { DAY_MS, ROLLUP_DAYS, dailySavings, dayStart, utcDay, type Savings } from './rollup'
import type { DailyRow } from './summary'

/** One agent's savings of one UTC day, computed now. */
export interface AgentDay extends Omit<Savings, 'unpricedMs'> {
  agentId: string
  clientId: string
  day: string
  /** When the agent's first segment of the day started running (within the day), epoch ms. */
  firstUseAt: number
}

/** The live days: rollup rows of `fromDay` and later are replaced by `rows`. */
export interface LiveDays {
  /** `YYYY-MM-DD`: the first day computed live. */
  fromDay: string
  rows: AgentDay[]
}

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
  const segments = await db
    .select()
    .from(usageSegments)
    .where(
      and(
        where,
        lt(usageSegments.startedAt, now),
        or(isNull(usageSegments.endedAt), gte(usageSegments.endedAt, from)),
      ),
    )
  if (segments.length === 0) return { fromDay, rows: [] }
  const book = await loadPriceBook(db, segments, from, now)
  const byAgent = new Map<string, typeof segments>()
  for (const s of segments) byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s])
  const rows = [...byAgent.values()].flatMap((mine) =>
    dailySavings(mine, book, fromDay, now).map(({ unpricedMs: _, ...day }) => ({
      ...day,
      agentId: mine[0]!.agentId,
      clientId: mine[0]!.clientId,
      firstUseAt: firstUse(mine, dayStart(day.day), now),
    })),
  )
  return { fromDay, rows }
}

/** The first day the rollup may not have finished: the day of its last run, at most ROLLUP_DAYS back. */
export async function liveFromDay(db: Database, now: number): Promise<string> {
  const [run] = await db.select().from(cronRuns).where(eq(cronRuns.job, 'ledger')).limit(1)
  // A run in progress (or failed) may have left its days half-written: count from the day before.
  const lastRun = run?.ok && run.startedAt <= now ? run.startedAt : now - DAY_MS
  return utcDay(Math.max(lastRun, now - (ROLLUP_DAYS - 1) * DAY_MS))
}

/** When the first of the segments ran within the UTC day starting at `start`. */
function firstUse(segments: readonly Segment[], start: number, now: number): number {
  return segments.reduce((m, s) => Math.min(m, clip(s, start, start + DAY_MS, now)?.[0] ?? m), start + DAY_MS)
}

/** Per-day sums (the rows `summarize` reads): the rollup's final days, then the live ones. */
export function withLiveDays(rollup: readonly DailyRow[], live: LiveDays): DailyRow[] {
  const sums = new Map<string, DailyRow>()
  for (const r of live.rows) {
    const sum = sums.get(r.day) ?? {
      day: r.day,
      baseline: 0,
      primary: 0,
      replica: 0,
      overlap: 0,
      savings: 0,
      firstUseAt: r.firstUseAt,
    }
    sum.firstUseAt = Math.min(sum.firstUseAt ?? r.firstUseAt, r.firstUseAt)
    addCosts(sum, r)
    sums.set(r.day, sum)
  }
  const final = rollup.filter((r) => r.day < live.fromDay)
  return [...final, ...[...sums.values()].sort((a, b) => a.day.localeCompare(b.day))]
}

/** The five figures of a span, USD. */
type Costs = Pick<Savings, 'baseline' | 'primary' | 'replica' | 'overlap' | 'savings'>

/** Adds a day's figures to a running sum. */
export function addCosts(sum: Costs, day: Costs): void {
  sum.baseline += day.baseline
  sum.primary += day.primary
  sum.replica += day.replica
  sum.overlap += day.overlap
  sum.savings += day.savings
}
