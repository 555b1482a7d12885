/** What the instance page and its API show: metrics, pools with prices, switches and interruptions. */
import { and, count, desc, eq, gt, or, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { events, savingsDaily, switches, type Instance } from '../../db/schema'
import { onDemandPrice, poolsWithPrices, savingsPercent } from './prices'

const DAY = 24 * 3600_000

/** Pools of the instance's type and region with price and savings against on-demand. */
export async function instancePricing(db: Database, inst: Instance) {
  const [pools, od] = await Promise.all([
    inst.instanceType && inst.region ? poolsWithPrices(db, inst.instanceType, inst.region) : [],
    inst.instanceType && inst.region ? onDemandPrice(db, inst.instanceType, inst.region) : null,
  ])
  return {
    currentMode: inst.mode,
    currentPool: inst.poolId,
    onDemand: { name: 'On-Demand', price: od },
    pools: pools.map((p) => ({
      id: p.id,
      name: p.id,
      az: p.az,
      price: p.price,
      observedAt: p.observedAt,
      savings: savingsPercent(p.price, od),
      isCurrent: inst.mode === 'spot' && p.id === inst.poolId,
    })),
  }
}

/** Metrics of an instance; savings come from the ledger's daily rollups of its agent. */
export async function instanceMetrics(db: Database, inst: Instance, now: number) {
  const mine = or(eq(switches.oldInstanceId, inst.instanceId), eq(switches.newInstanceId, inst.instanceId))
  const [[totals], [lastWeek], [last], [ledger], pricing] = await Promise.all([
    db
      .select({ n: count() })
      .from(switches)
      .where(and(eq(switches.agentId, inst.agentId), mine)),
    db
      .select({ n: count() })
      .from(switches)
      .where(and(eq(switches.agentId, inst.agentId), mine, gt(switches.receivedAt, now - 7 * DAY))),
    db
      .select({ at: switches.receivedAt })
      .from(switches)
      .where(and(eq(switches.agentId, inst.agentId), mine))
      .orderBy(desc(switches.receivedAt))
      .limit(1),
    db
      .select({
        total: sql<number | null>`sum(${savingsDaily.savings})`,
        last30: sql<
          number | null
        >`sum(case when ${savingsDaily.day} >= ${isoDay(now - 30 * DAY)} then ${savingsDaily.savings} end)`,
      })
      .from(savingsDaily)
      .where(eq(savingsDaily.agentId, inst.agentId)),
    instancePricing(db, inst),
  ])
  const current = pricing.pools.find((p) => p.id === inst.poolId)
  const end = inst.terminatedAt ?? now
  return {
    id: inst.instanceId,
    instanceType: inst.instanceType,
    currentMode: inst.mode,
    currentPoolId: inst.poolId,
    spotPrice: current?.price ?? null,
    onDemandPrice: pricing.onDemand.price,
    uptimeHours: round1((end - inst.createdAt) / 3600_000),
    hoursSinceLastSwitch: last ? round1((now - last.at) / 3600_000) : null,
    totalSwitches: totals?.n ?? 0,
    switchesLast7Days: lastWeek?.n ?? 0,
    /** Per agent (the workload), from the ledger; null until the ledger has a day. */
    savingsLast30Days: ledger?.last30 ?? null,
    totalSavings: ledger?.total ?? null,
  }
}

/** Switches and interruption events of an agent since `from`, for chart markers. */
export async function agentMarkers(db: Database, agentId: string, from: number) {
  const [sw, ev] = await Promise.all([
    db
      .select({
        at: switches.receivedAt,
        trigger: switches.trigger,
        toMode: switches.newMode,
        toPool: switches.newPoolId,
      })
      .from(switches)
      .where(and(eq(switches.agentId, agentId), gt(switches.receivedAt, from)))
      .orderBy(switches.receivedAt)
      .limit(200),
    db
      .select({ at: events.receivedAt, kind: events.kind, poolId: events.poolId })
      .from(events)
      .where(and(eq(events.agentId, agentId), gt(events.receivedAt, from)))
      .orderBy(events.receivedAt)
      .limit(200),
  ])
  return { switches: sw, events: ev }
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}
