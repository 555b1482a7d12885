/** Savings broken down per agent and per pool, from rollup sums, live days and segments passed in. */
import { baselineTypeOf, onDemandCost, segmentCost, type PriceBook, type Segment } from './cost'
import { addCosts, type LiveDays } from './live'

export const round = (x: number) => Math.round(x * 1e6) / 1e6

/** One agent's sums over a period, USD. */
export interface AgentSums {
  agentId: string
  baseline: number
  primary: number
  replica: number
  overlap: number
  savings: number
}

/**
 * Per agent, the rollup's sums of its final days plus the live days since `fromDay` (inclusive).
 * Largest savings first.
 */
export function withLiveAgentDays(
  rollup: readonly AgentSums[],
  live: LiveDays,
  fromDay: string,
): AgentSums[] {
  const sums = new Map(rollup.map((r) => [r.agentId, { ...r }]))
  for (const d of live.rows) {
    if (d.day < fromDay) continue
    const sum = sums.get(d.agentId) ?? {
      agentId: d.agentId,
      baseline: 0,
      primary: 0,
      replica: 0,
      overlap: 0,
      savings: 0,
    }
    addCosts(sum, d)
    sums.set(d.agentId, sum)
  }
  return [...sums.values()].sort((a, b) => b.savings - a.savings)
}

/**
 * Per pool (or on-demand) and role over [from, now): hours, cost and what on-demand would have cost.
 * Replica and overlap time has no baseline of its own: its savings are negative, its cost.
 */
export function poolTotalsOf(segments: readonly Segment[], book: PriceBook, from: number, now: number) {
  const groups = new Map<
    string,
    { pool_id: string | null; mode: string; role: string; hours: number; cost: number; ondemand_cost: number }
  >()
  for (const s of segments) {
    const key = `${s.poolId}|${s.mode}|${s.role}`
    const g = groups.get(key) ?? {
      pool_id: s.mode === 'spot' ? s.poolId : null,
      mode: s.mode,
      role: s.role,
      hours: 0,
      cost: 0,
      ondemand_cost: 0,
    }
    const start = Math.max(s.startedAt, from)
    const end = Math.min(s.endedAt ?? now, now)
    if (end <= start) continue
    g.hours += (end - start) / 3_600_000
    g.cost += segmentCost(s, book, from, now, now).cost
    if (s.role === 'primary')
      g.ondemand_cost += onDemandCost(book, baselineTypeOf(s), s.region, start, end).cost
    groups.set(key, g)
  }
  return [...groups.values()].map((g) => ({
    ...g,
    hours: round(g.hours),
    cost: round(g.cost),
    ondemand_cost: round(g.ondemand_cost),
    savings: round(g.ondemand_cost - g.cost),
  }))
}
