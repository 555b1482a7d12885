/**
 * Failover on a 2-minute interruption notice: promote the agent's best replica (`ready`, else
 * `syncing`) within the request, and record the notice as an interruption event of the pool.
 * A repeated notice (same instance and termination time) gets the first answer and changes nothing.
 */
import { and, desc, eq, isNull, ne } from 'drizzle-orm'
import { findInstanceOfAgent } from '../agents/instances'
import type { Database } from '../db/client'
import { events, instances, notifications, type Agent, type Replica } from '../db/schema'
import { newId } from '../ids'
import { promoteReplica } from './promote'
import { activeReplicas, findReplica } from './store'
import { clock } from '../clock'

export interface Notice {
  instanceId: string
  /** Agent clock, epoch ms. */
  terminationTime: number | null
  detectedAt: number | null
  replicaId: string | null
}

export type Failover =
  | {
      kind: 'promoted'
      replicaId: string
      newInstanceId: string
      failoverMs: number
      replica: Replica | null
    }
  | { kind: 'no_replica' }

/** Fails the agent over for a notice received at server time `now`. */
export async function failOver(db: Database, agent: Agent, notice: Notice, now: number): Promise<Failover> {
  const earlier = await earlierNotice(db, agent, notice)
  if (earlier) {
    return earlier.replicaId && earlier.newInstanceId
      ? {
          kind: 'promoted',
          replicaId: earlier.replicaId,
          newInstanceId: earlier.newInstanceId,
          failoverMs: earlier.failoverMs ?? 0,
          replica: null,
        }
      : { kind: 'no_replica' }
  }
  const instance = await findInstanceOfAgent(db, agent, notice.instanceId)
  const replica = await bestReplica(db, agent, notice.replicaId)
  const event = (fields: {
    action: string
    replicaId?: string
    newInstanceId?: string
    failoverMs?: number
  }) =>
    db.insert(events).values({
      id: newId('evt'),
      clientId: agent.clientId,
      agentId: agent.id,
      instanceId: notice.instanceId,
      poolId: instance?.poolId ?? null,
      kind: 'termination_notice',
      terminationTime: notice.terminationTime,
      detectedAt: notice.detectedAt,
      receivedAt: now,
      ...fields,
    })
  const notification = (message: string, severity: 'warning' | 'error') =>
    db.insert(notifications).values({
      id: newId('ntf'),
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'interruption',
      severity,
      message,
      createdAt: now,
    })
  if (!replica?.instanceId) {
    await db.batch([
      event({ action: 'emergency_snapshot_required' }),
      notification(
        `${agent.logicalAgentId}: spot interruption of ${notice.instanceId}, no replica to fail over to`,
        'error',
      ),
    ])
    return { kind: 'no_replica' }
  }
  // clock.now() advances only across I/O in Workers: this spans the reads above.
  const failoverMs = clock.now() - now
  const promotion = await promoteReplica(db, agent, replica, 'interruption', now, [
    // The interrupted instance is being reclaimed: its records (and its usage) end now.
    db
      .update(instances)
      .set({ status: 'terminated', terminatedAt: now, updatedAt: now })
      .where(
        and(
          eq(instances.clientId, agent.clientId),
          eq(instances.agentId, agent.id),
          eq(instances.instanceId, notice.instanceId),
          ne(instances.instanceId, replica.instanceId),
        ),
      ),
    event({
      action: 'replica_promoted',
      replicaId: replica.id,
      newInstanceId: replica.instanceId,
      failoverMs,
    }),
    notification(
      `${agent.logicalAgentId}: spot interruption of ${notice.instanceId}, replica ${replica.instanceId} promoted`,
      'warning',
    ),
  ])
  return {
    kind: 'promoted',
    replicaId: replica.id,
    newInstanceId: promotion.newInstanceId,
    failoverMs,
    replica,
  }
}

/** The replica to promote: the one named if it can be, else the newest `ready`, else the newest `syncing`. */
async function bestReplica(db: Database, agent: Agent, replicaId: string | null): Promise<Replica | null> {
  const usable = (r: Replica) => r.instanceId !== null && (r.status === 'ready' || r.status === 'syncing')
  if (replicaId) {
    const named = await findReplica(db, agent, replicaId).catch(() => null)
    if (named && usable(named)) return named
  }
  const active = (await activeReplicas(db, agent)).filter(usable)
  return active.find((r) => r.status === 'ready') ?? active[0] ?? null
}

async function earlierNotice(db: Database, agent: Agent, notice: Notice) {
  const [row] = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.agentId, agent.id),
        eq(events.kind, 'termination_notice'),
        eq(events.instanceId, notice.instanceId),
        notice.terminationTime === null
          ? isNull(events.terminationTime)
          : eq(events.terminationTime, notice.terminationTime),
      ),
    )
    .orderBy(desc(events.receivedAt))
    .limit(1)
  return row ?? null
}
