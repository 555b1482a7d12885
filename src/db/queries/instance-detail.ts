/**
 * What the instance page and its API show: metrics, switches and interruptions loaded in one D1 batch
 * (one round trip), beside the pools with the prices the instance's client sees (db/queries/prices.ts)
 * and the agent's savings of the days since the last rollup.
 */
import { and, count, desc, eq, gt, isNull, or } from 'drizzle-orm'
import { utcDay } from '../../ledger/rollup'
import type { Database } from '../client'
import { decisions, events, savingsDaily, switches, usageSegments, type Instance } from '../schema'
import { liveDays } from './live-days'
import { poolsWithPrices, savingsPercent } from './prices'

const DAY = 24 * 3600_000

const round1 = (x: number) => Math.round(x * 10) / 10

/** Everything about an instance; `markersFrom` bounds the chart markers (epoch ms). */
export async function instanceFacts(db: Database, inst: Instance, now: number, markersFrom = now - DAY) {
  const type = inst.instanceType ?? ''
  const region = inst.region ?? ''
  const mine = and(
    eq(switches.agentId, inst.agentId),
    or(eq(switches.oldInstanceId, inst.instanceId), eq(switches.newInstanceId, inst.instanceId)),
    isNull(switches.undoneAt),
  )
  const [[[totals], [lastWeek], [last], rollupDays, switchMarks, eventMarks, decisionMarks], live, prices] =
    await Promise.all([
      db.batch([
        db.select({ n: count() }).from(switches).where(mine),
        db
          .select({ n: count() })
          .from(switches)
          .where(and(mine, gt(switches.receivedAt, now - 7 * DAY))),
        db
          .select({ at: switches.receivedAt })
          .from(switches)
          .where(mine)
          .orderBy(desc(switches.receivedAt))
          .limit(1),
        db
          .select({ day: savingsDaily.day, savings: savingsDaily.savings })
          .from(savingsDaily)
          .where(eq(savingsDaily.agentId, inst.agentId)),
        db
          .select({
            at: switches.receivedAt,
            trigger: switches.trigger,
            toMode: switches.newMode,
            toPool: switches.newPoolId,
          })
          .from(switches)
          .where(
            and(
              eq(switches.agentId, inst.agentId),
              gt(switches.receivedAt, markersFrom),
              isNull(switches.undoneAt),
            ),
          )
          .orderBy(switches.receivedAt)
          .limit(200),
        db
          .select({ at: events.receivedAt, kind: events.kind, poolId: events.poolId })
          .from(events)
          .where(and(eq(events.agentId, inst.agentId), gt(events.receivedAt, markersFrom)))
          .orderBy(events.receivedAt)
          .limit(200),
        db
          .select({
            at: decisions.createdAt,
            decision: decisions.decision,
            target: decisions.targetPoolId,
            reasonCode: decisions.reasonCode,
            blockedBy: decisions.blockedBy,
          })
          .from(decisions)
          .where(
            and(
              eq(decisions.agentId, inst.agentId),
              eq(decisions.shadow, false),
              gt(decisions.createdAt, markersFrom),
            ),
          )
          .orderBy(decisions.createdAt)
          .limit(200),
      ]),
      liveDays(
        db,
        and(eq(usageSegments.agentId, inst.agentId), eq(usageSegments.clientId, inst.clientId)),
        now,
      ),
      // The prices this client's decisions are made on (db/queries/quotes.ts).
      poolsWithPrices(db, inst.clientId, type, region, now),
    ])
  // The rollup's final days, then the live ones (ledger/live.ts).
  const ledger = [...rollupDays.filter((d) => d.day < live.fromDay), ...live.rows]
  const since30 = utcDay(now - 30 * DAY)
  const sum = (days: typeof ledger) => (days.length === 0 ? null : days.reduce((t, d) => t + d.savings, 0))
  const od = prices.onDemand
  const pricing = {
    currentMode: inst.mode,
    currentPool: inst.poolId,
    onDemand: { name: 'On-Demand', price: od },
    pools: prices.pools.map((p) => ({
      id: p.id,
      name: p.id,
      az: p.az,
      price: p.price,
      observedAt: p.observedAt,
      savings: savingsPercent(p.price, od),
      isCurrent: inst.mode === 'spot' && p.id === inst.poolId,
    })),
  }
  const current = pricing.pools.find((p) => p.id === inst.poolId)
  const metrics = {
    id: inst.instanceId,
    instanceType: inst.instanceType,
    currentMode: inst.mode,
    currentPoolId: inst.poolId,
    spotPrice: current?.price ?? null,
    onDemandPrice: od,
    // A terminating instance's end is still ahead: it has run until now.
    uptimeHours: round1((Math.min(inst.terminatedAt ?? now, now) - inst.createdAt) / 3600_000),
    hoursSinceLastSwitch: last ? round1((now - last.at) / 3600_000) : null,
    totalSwitches: totals?.n ?? 0,
    switchesLast7Days: lastWeek?.n ?? 0,
    /** Per agent (the workload), from the ledger up to now; null before it ran. */
    savingsLast30Days: sum(ledger.filter((d) => d.day >= since30)),
    totalSavings: sum(ledger),
  }
  return {
    pricing,
    metrics,
    markers: { switches: switchMarks, events: eventMarks, decisions: decisionMarks },
  }
}
