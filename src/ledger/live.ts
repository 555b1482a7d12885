/**
 * The ledger as of now. The hourly rollup leaves `savings_daily` up to an hour behind (a new agent has
 * no row at all for its first hour), so the days since the rollup's last run are computed at read time
 * from the usage segments (db/queries/live-days.ts reads them), open ones up to `now`, exactly as the
 * rollup computes them.
 */
import { clip, type PriceBook, type Segment } from './cost'
import { DAY_MS, dailySavings, dayStart, type Savings } from './rollup'
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

/** A segment with the agent and client it belongs to. */
type LedgerSegment = Segment & { agentId: string; clientId: string }

/**
 * Per agent, the days from `fromDay` through today, computed from its segments (open ones up to `now`)
 * exactly as the rollup computes them.
 */
export function liveRows(segments: readonly LedgerSegment[], book: PriceBook, fromDay: string, now: number) {
  const byAgent = new Map<string, LedgerSegment[]>()
  for (const s of segments) byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s])
  return [...byAgent.values()].flatMap((mine): AgentDay[] =>
    dailySavings(mine, book, fromDay, now).map(({ unpricedMs: _, ...day }) => ({
      ...day,
      agentId: mine[0]!.agentId,
      clientId: mine[0]!.clientId,
      firstUseAt: firstUse(mine, dayStart(day.day), now),
    })),
  )
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
