/** Savings read for people: per day or month of a client, per agent, per pool, and switch/failover times. */
import { and, eq, gte, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { events, savingsDaily, switches, usageSegments } from '../schema'
import { poolTotalsOf, round, withLiveAgentDays, type AgentSums } from '../../ledger/breakdown'
import type { LiveDays } from '../../ledger/live'
import { loadPriceBook } from './price-book'
import { selectLedgerSegments } from './ledger-segments'

/** The rollup's cost columns summed, as both groupings select them. */
const costSums = {
  baseline: sql<number>`sum(${savingsDaily.baselineCost})`,
  primary: sql<number>`sum(${savingsDaily.primaryCost})`,
  replica: sql<number>`sum(${savingsDaily.replicaCost})`,
  overlap: sql<number>`sum(${savingsDaily.overlapCost})`,
  savings: sql<number>`sum(${savingsDaily.savings})`,
}

/**
 * Per-day sums of the daily rollups over a client's agents (null: over every client), oldest first:
 * the rows `summarize` and `series` read.
 */
export function dailySums(db: Database, scope: string | null) {
  return db
    .select({
      day: savingsDaily.day,
      ...costSums,
    })
    .from(savingsDaily)
    .where(scope === null ? undefined : eq(savingsDaily.clientId, scope))
    .groupBy(savingsDaily.day)
    .orderBy(savingsDaily.day)
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
      ...costSums,
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
  return withLiveAgentDays(rollup, live, fromDay)
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

/** Per pool (or on-demand) and role of the client over [from, now) (ledger/breakdown.ts poolTotalsOf). */
export async function poolTotals(db: Database, clientId: string, from: number, now: number) {
  const segments = await selectLedgerSegments(db).where(
    and(
      eq(usageSegments.clientId, clientId),
      lt(usageSegments.startedAt, now),
      or(isNull(usageSegments.endedAt), gte(usageSegments.endedAt, from)),
    ),
  )
  return poolTotalsOf(segments, await loadPriceBook(db, clientId, segments, from, now), from, now)
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
      and(
        eq(switches.clientId, clientId),
        gte(switches.receivedAt, from),
        isNotNull(switches.downtimeMs),
        isNull(switches.undoneAt),
      ),
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
