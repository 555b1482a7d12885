/**
 * Replicas the agent or a person asks for (POST replicas). With a real `instance_id` the agent has
 * launched it already: the record starts as `syncing`, never `launching`, so no poller launches it again
 * (or `ready`, when it says so: then notified as ready).
 */
import type { Database } from '../../db/client'
import { type Agent, type Replica } from '../../db/schema'
import { newId } from '../../ids'
import { placeReplica, type PlacementWish } from './placement'
import { MAX_ACTIVE_REPLICAS, type ReplicaStatus } from './states'
import { activeReplicas, createReplica, findByInstance, findReplica } from './store'
import { refuse, type Refusal } from '../refusal'
import { knownElsewhere } from './known-instance'
import { notifyReplicaReady } from './ready'

export interface ReplicaRequest extends PlacementWish {
  replicaType: 'manual' | 'emergency'
  /** The EC2 id when the agent launched the instance itself. */
  instanceId: string | null
  parentInstanceId: string | null
  requestedStatus: ReplicaStatus | null
}

/**
 * Creates the replica (or returns the one already recorded on this instance). Refused: manual replicas
 * off or the agent disabled (FORBIDDEN), no room or no pool for it, an instance id known as something
 * else (the agent's own, another workload's instance or another agent's replica: CONFLICT), a
 * malformed pool id.
 */
export async function requestReplica(
  db: Database,
  agent: Agent,
  req: ReplicaRequest,
  now: number,
): Promise<{ ok: true; replica: Replica; created: boolean } | Refusal> {
  if (req.replicaType === 'manual' && !agent.manualReplicaEnabled) {
    return refuse('FORBIDDEN', 'manual replicas are disabled for this agent')
  }
  if (!agent.enabled || agent.status === 'disabled') return refuse('FORBIDDEN', 'agent is disabled')
  if (req.instanceId) {
    const existing = await findByInstance(db, agent, req.instanceId)
    if (existing) return { ok: true, replica: existing, created: false }
    const known = await knownElsewhere(db, agent, req.instanceId)
    if (known) return refuse('CONFLICT', known)
  }
  const active = await activeReplicas(db, agent)
  if (active.length >= MAX_ACTIVE_REPLICAS) {
    return refuse('CONFLICT', `at most ${MAX_ACTIVE_REPLICAS} active replicas per agent`)
  }
  const placed = await placeReplica(db, agent, { ...req, launched: req.instanceId !== null }, now)
  if (!placed.ok) return placed
  const { placement } = placed
  const id = newId('rep')
  await createReplica(db, {
    id,
    clientId: agent.clientId,
    agentId: agent.id,
    instanceId: req.instanceId,
    replicaType: req.replicaType,
    status: initialStatus(req),
    poolId: placement.poolId,
    instanceType: placement.instanceType,
    region: placement.region,
    az: placement.az,
    parentInstanceId: req.parentInstanceId ?? agent.instanceId,
    hourlyCost: placement.price,
    createdAt: now,
    launchedAt: req.instanceId ? now : null,
    readyAt: req.instanceId && req.requestedStatus === 'ready' ? now : null,
    updatedAt: now,
  })
  const replica = await findReplica(db, agent, id)
  if (!replica) throw new Error('replica row missing after insert')
  // Recorded ready at once (the agent launched it before asking): told as a report of `ready` is.
  if (replica.status === 'ready') await notifyReplicaReady(db, agent, replica, now)
  return { ok: true, replica, created: true }
}

function initialStatus(req: ReplicaRequest): ReplicaStatus {
  if (!req.instanceId) return 'launching'
  return req.requestedStatus === 'ready' ? 'ready' : 'syncing'
}
