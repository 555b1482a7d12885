/**
 * Promotion: the replica's instance becomes the agent's primary (its real EC2 id), recorded as a
 * switch. Writes `replicas`, `instances`, `agents` and `switches` in one batch, with any extra
 * statements of the caller (an interruption event).
 */
import { eq } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../db/client'
import { agents, instances, replicas, switches, type Agent, type Replica } from '../db/schema'
import { findInstanceOfAgent } from '../agents/instances'
import { ApiError } from '../errors'
import { newId } from '../ids'

export interface Promotion {
  replicaId: string
  newInstanceId: string
  oldInstanceId: string | null
  /** False when the replica was already promoted (nothing changed). */
  changed: boolean
}

/** Promotes at server time `now`; 409 for a replica without an instance or in an ended state. */
export async function promoteReplica(
  db: Database,
  agent: Agent,
  replica: Replica,
  trigger: 'replica_promotion' | 'interruption',
  now: number,
  extra: BatchItem<'sqlite'>[] = [],
): Promise<Promotion> {
  if (!replica.instanceId) throw new ApiError('CONFLICT', 'the replica has no instance yet')
  const base = { replicaId: replica.id, newInstanceId: replica.instanceId, oldInstanceId: agent.instanceId }
  if (replica.status === 'promoted') return { ...base, changed: false }
  if (replica.status !== 'ready' && replica.status !== 'syncing') {
    throw new ApiError('CONFLICT', `a ${replica.status} replica can't be promoted`, {
      status: replica.status,
    })
  }
  const old = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const facts = {
    agentId: agent.id,
    instanceType: replica.instanceType,
    region: replica.region,
    az: replica.az,
    mode: 'spot' as const,
    poolId: replica.poolId,
    status: 'active' as const,
    updatedAt: now,
    terminatedAt: null,
  }
  await db.batch([
    db
      .update(replicas)
      .set({ status: 'promoted', promotedAt: now, updatedAt: now })
      .where(eq(replicas.id, replica.id)),
    db
      .insert(instances)
      .values({
        id: newId('ins'),
        clientId: agent.clientId,
        instanceId: replica.instanceId,
        createdAt: now,
        ...facts,
      })
      .onConflictDoUpdate({ target: [instances.clientId, instances.instanceId], set: facts }),
    db.update(agents).set({ instanceId: replica.instanceId, updatedAt: now }).where(eq(agents.id, agent.id)),
    db.insert(switches).values({
      id: newId('swi'),
      clientId: agent.clientId,
      agentId: agent.id,
      trigger,
      oldInstanceId: agent.instanceId,
      newInstanceId: replica.instanceId,
      oldMode: old?.mode ?? null,
      oldPoolId: old?.poolId ?? null,
      newMode: 'spot',
      newPoolId: replica.poolId,
      instanceType: replica.instanceType,
      region: replica.region,
      newPrice: replica.hourlyCost,
      receivedAt: now,
    }),
    ...extra,
  ])
  return { ...base, changed: true }
}
