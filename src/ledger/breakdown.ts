/** Savings read for people: per day or month of a client, per agent, per pool, and switch/failover times. */
import { and, eq, gte, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { events, savingsDaily, switches, usageSegments } from '../db/schema'
import { onDemandCost, segmentCost } from './cost'
import { addCosts, type LiveDays } from './live'
import { loadPriceBook } from './price-book'

const round = (x: number) => Math.round(x * 1e6) / 1e6

/**
 * Per-day sums of the daily rollups over a client's agents (null: over every client), oldest first:
 * the rows `summarize` and `series` read.
 */
export function dailySums(db: Database, scope: string | null) {
  return db
    .select({
      day: savingsDaily.day,
      baseline: sql<number>`sum(${savingsDaily.baselineCost})`,
      primary: sql<number>`sum(${savingsDaily.primaryCost})`,
      replica: sql<number>`sum(${savingsDaily.replicaCost})`,
      overlap: sql<number>`sum(${savingsDaily.overlapCost})`,
      savings: sql<number>`sum(${savingsDaily.savings})`,
    })
    .from(savingsDaily)
    .where(scope === null ? undefined : eq(savingsDaily.clientId, scope))
    .groupBy(savingsDaily.day)
    .orderBy(savingsDaily.day)
}

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
 * Per agent of a client (null: every client), sums since `fromDay` (inclusive): the rollup's final days,
 * then the live days (ledger/live.ts) of the same scope. Largest savings first.
 */
export async function agentSums(
  db: Database,
  clientId: string | null,
  fromDay: string,
  live: LiveDays,
): Promise<AgentSums[]> {
  const rollup = await db
    .select({
      agentId: savingsDaily.agentId,
      baseline: sql<number>`sum(${savingsDaily.baselineCost})`,
      primary: sql<number>`sum(${savingsDaily.primaryCost})`,
      replica: sql<number>`sum(${savingsDaily.replicaCost})`,
      overlap: sql<number>`sum(${savingsDaily.overlapCost})`,
      savings: sql<number>`sum(${savingsDaily.savings})`,
    })
    .from(savingsDaily)
    .where(
      and(
        clientId === null ? undefined : eq(savingsDaily.clientId, clientId),
        gte(savingsDaily.day, fromDay),
        lt(savingsDaily.day, live.fromDay),
      ),
    )
    .groupBy(savingsDaily.agentId)
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

/** Per agent of the client since `fromDay` (inclusive), as the savings API answers it. */
export async function agentTotals(db: Database, clientId: string, fromDay: string, live: LiveDays) {
  const rows = await agentSums(db, clientId, fromDay, live)
  return rows.map((r) => ({
    agent_id: r.agentId,
    baseline: round(r.baseline),
    cost: round(r.primary + r.replica + r.overlap),
    replica_cost: round(r.replica),
    savings: round(r.savings),
    percent_saved: r.baseline > 0 ? round((r.savings / r.baseline) * 100) : 0,
  }))
}

/**
 * Per pool (or on-demand) and role over [from, now): hours, cost and what on-demand would have cost.
 * Replica and overlap time has no baseline of its own: its savings are negative, its cost.
 */
export async function poolTotals(db: Database, clientId: string, from: number, now: number) {
  const segments = await db
    .select()
    .from(usageSegments)
    .where(
      and(
        eq(usageSegments.clientId, clientId),
        lt(usageSegments.startedAt, now),
        or(isNull(usageSegments.endedAt), gte(usageSegments.endedAt, from)),
      ),
    )
  const book = await loadPriceBook(db, segments, from, now)
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
    if (s.role === 'primary') g.ondemand_cost += onDemandCost(book, s.instanceType, s.region, start, end).cost
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

/** Downtime per switch and failover time per interruption since `from`. */
export async function serviceTimes(db: Database, clientId: string, from: number) {
  const [down] = await db
    .select({
      n: sql<number>`count(*)`,
      avg: sql<number | null>`avg(${switches.downtimeMs})`,
      max: sql<number | null>`max(${switches.downtimeMs})`,
    })
    .from(switches)
    .where(
      and(eq(switches.clientId, clientId), gte(switches.receivedAt, from), isNotNull(switches.downtimeMs)),
    )
  const [fail] = await db
    .select({
      n: sql<number>`count(*)`,
      avg: sql<number | null>`avg(${events.failoverMs})`,
      max: sql<number | null>`max(${events.failoverMs})`,
    })
    .from(events)
    .where(
      and(
        eq(events.clientId, clientId),
        eq(events.kind, 'termination_notice'),
        gte(events.receivedAt, from),
        isNotNull(events.failoverMs),
      ),
    )
  return {
    downtime_per_switch: { switches: down?.n ?? 0, avg_ms: down?.avg ?? null, max_ms: down?.max ?? null },
    failover_per_interruption: {
      interruptions: fail?.n ?? 0,
      avg_ms: fail?.avg ?? null,
      max_ms: fail?.max ?? null,
    },
  }
}
