/**
 * Rebalance recommendations and terminations as events of a pool (the engine's risk data).
 * Records them through flows/events.ts (notices: `src/flows/replicas/failover.ts`) and ends the instances the
 * agent reports gone through flows/instances.ts.
 */
import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { events, type Agent } from '../db/schema'
import { assessPool } from './pools'
import { findInstanceOfAgent } from '../db/queries/instances'
import { endGoneInstance } from './instances'
import { recordEvent } from './events'

const RISK_WINDOW_MS = 30 * 24 * 3_600_000

export interface RebalanceAnswer {
  action: 'monitor' | 'switch'
  riskScore: number
  reason: string
  poolId: string | null
  /** With `switch`: the safer pool the engine would move to. */
  targetPoolId?: string
}

/**
 * Records a rebalance recommendation received at `now` and answers with the engine's risk of the pool:
 * `switch` (with a safer pool) when it is above the agent's risk threshold, else `monitor`.
 */
export async function recordRebalance(
  db: Database,
  agent: Agent,
  signal: { instanceId: string; detectedAt: number | null; shared: boolean },
  now: number,
): Promise<RebalanceAnswer> {
  const instance = await findInstanceOfAgent(db, agent, signal.instanceId)
  const poolId = instance?.poolId ?? null
  await recordEvent(db, {
    clientId: agent.clientId,
    agentId: agent.id,
    instanceId: signal.instanceId,
    poolId,
    kind: 'rebalance',
    detectedAt: signal.detectedAt,
    receivedAt: now,
    action: 'monitor',
    shared: signal.shared,
  })
  const seen = poolId ? await poolSignals(db, agent.clientId, poolId, now) : 1
  const assessed =
    poolId && instance?.instanceType && instance.region
      ? await assessPool(
          db,
          agent.clientId,
          { poolId, instanceType: instance.instanceType, region: instance.region },
          agent.riskThreshold,
          now,
        )
      : null
  const riskScore = Math.round((assessed?.risk ?? 1 - Math.exp(-seen / 10)) * 100) / 100
  const reason = `rebalance recommendation; ${seen} interruption signal(s) in ${poolId ?? 'this pool'} over 30 days`
  if (assessed?.saferPool) {
    return {
      action: 'switch',
      riskScore,
      reason: `${reason}; risk above ${assessed.threshold}, ${assessed.saferPool.poolId} is safer`,
      poolId,
      targetPoolId: assessed.saferPool.poolId,
    }
  }
  return { action: 'monitor', riskScore, reason, poolId }
}

/**
 * Signals in the pool over 30 days as the client may trust them: its own, plus one per other client
 * whose signals are shared (events.shared).
 */
async function poolSignals(db: Database, clientId: string, poolId: string, now: number): Promise<number> {
  const [row] = await db
    .select({
      n: sql<number>`count(case when ${events.clientId} = ${clientId} then 1 end)
        + count(distinct case when ${events.clientId} <> ${clientId} and ${events.shared}
          then ${events.clientId} end)`,
    })
    .from(events)
    .where(
      and(
        eq(events.poolId, poolId),
        inArray(events.kind, ['termination_notice', 'rebalance']),
        gte(events.receivedAt, now - RISK_WINDOW_MS),
      ),
    )
  return row?.n ?? 0
}

/** The agent says an instance is gone: end it (once) and record a termination event. */
export async function recordTermination(
  db: Database,
  agent: Agent,
  gone: { instanceId: string; reason: string | null; shared: boolean },
  now: number,
): Promise<{ changed: boolean }> {
  const instance = await findInstanceOfAgent(db, agent, gone.instanceId)
  if (instance?.status === 'terminated') return { changed: false }
  const event = recordEvent(db, {
    clientId: agent.clientId,
    agentId: agent.id,
    instanceId: gone.instanceId,
    poolId: instance?.poolId ?? null,
    kind: 'termination',
    receivedAt: now,
    detail: { reason: gone.reason },
    shared: gone.shared,
  })
  if (!instance) {
    await event
    return { changed: true }
  }
  await db.batch([event, endGoneInstance(db, instance.id, now)])
  return { changed: true }
}
