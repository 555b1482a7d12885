/**
 * Emergency replicas on an interruption or rebalance signal. Idempotent per signal: a termination
 * notice is keyed by (agent, termination_time) and answered by its latest attempt; a rebalance reuses
 * a live emergency replica of the last 30 minutes; a ready manual standby in another pool already
 * answers any signal. An interruption's replacement is on-demand when no spot pool fits (5.x agents).
 */
import { and, desc, eq, gte, inArray } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { replicas, type Agent, type Replica } from '../../db/schema'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { newId } from '../../ids'
import { currentPoolOf, placeReplica } from './placement'
import { attemptsFor, noticeKey, placeForInterruption, type InterruptionPlacement } from './replacement'
import { ACTIVE_REPLICA_STATUSES, MAX_ACTIVE_REPLICAS } from './states'
import { activeReplicas, createReplicaOnce } from './store'
import { refuse, type Refusal } from '../refusal'

export const REBALANCE_REUSE_MS = 30 * 60_000

export type Signal =
  | { kind: 'termination'; instanceId: string; terminationTime: number | null }
  | { kind: 'rebalance'; instanceId: string }

export interface SignalWish {
  preferredZones?: string[]
  excludeZones?: string[]
}

/**
 * The replica answering the signal, and whether it was created now. Refused: a disabled agent
 * (FORBIDDEN), no room for another active replica or no pool to launch it in (CONFLICT).
 */
export async function emergencyReplicaFor(
  db: Database,
  agent: Agent,
  signal: Signal,
  wish: SignalWish,
  now: number,
): Promise<{ ok: true; replica: Replica; created: boolean } | Refusal> {
  if (!agent.enabled || agent.status === 'disabled') return refuse('FORBIDDEN', 'agent is disabled')
  const key = signalKey(signal)
  const earlier = await earlierAnswer(db, agent, signal, key, now)
  if (earlier) return { ok: true, replica: earlier, created: false }
  const active = await activeReplicas(db, agent)
  const currentPoolId = await currentPoolOf(db, agent)
  const standby = active.find(
    (r) => r.replicaType === 'manual' && r.status === 'ready' && r.poolId !== currentPoolId,
  )
  if (standby) return { ok: true, replica: standby, created: false }
  if (active.length >= MAX_ACTIVE_REPLICAS) {
    return refuse('CONFLICT', `at most ${MAX_ACTIVE_REPLICAS} active replicas per agent`)
  }
  // An interruption's replacement falls back to on-demand when no spot pool fits; a rebalance waits.
  let placement: InterruptionPlacement | null
  if (signal.kind === 'termination') {
    const az = await azOfInstance(db, agent, signal.instanceId)
    placement = await placeForInterruption(db, agent, wish, az, now)
  } else {
    const spot = await placeReplica(db, agent, wish, now)
    if (!spot.ok) return spot
    placement = { mode: 'spot', ...spot.placement }
  }
  if (!placement) return refuse('CONFLICT', 'no pool to launch a replacement in, spot or on-demand')
  const id = newId('rep')
  await createReplicaOnce(db, {
    id,
    clientId: agent.clientId,
    agentId: agent.id,
    replicaType: 'emergency',
    mode: placement.mode,
    status: 'launching',
    poolId: placement.poolId,
    instanceType: placement.instanceType,
    region: placement.region,
    az: placement.az,
    parentInstanceId: signal.instanceId,
    signalKey: key,
    hourlyCost: placement.price,
    createdAt: now,
    updatedAt: now,
  })
  // A concurrent call with the same key may have won the insert: answer with its replica.
  const [row] = await db
    .select()
    .from(replicas)
    .where(key ? and(eq(replicas.agentId, agent.id), eq(replicas.signalKey, key)) : eq(replicas.id, id))
    .limit(1)
  if (!row) throw new Error('replica row missing after insert')
  return { ok: true, replica: row, created: row.id === id }
}

async function azOfInstance(db: Database, agent: Agent, instanceId: string): Promise<string | null> {
  return (await findInstanceOfAgent(db, agent, instanceId))?.az ?? null
}

/** Termination notices are keyed by their time; rebalances have no key (reuse is by age). */
function signalKey(signal: Signal): string | null {
  switch (signal.kind) {
    case 'termination':
      return noticeKey(signal.terminationTime, signal.instanceId)
    case 'rebalance':
      return null
    default: {
      const never: never = signal
      return never
    }
  }
}

async function earlierAnswer(db: Database, agent: Agent, signal: Signal, key: string | null, now: number) {
  const mine = and(eq(replicas.clientId, agent.clientId), eq(replicas.agentId, agent.id))
  // The latest attempt answers the notice (a failed launch is followed by another: replacement.ts).
  if (key) return (await attemptsFor(db, agent, key)).at(-1) ?? null
  if (signal.kind !== 'rebalance') return null
  const [row] = await db
    .select()
    .from(replicas)
    .where(
      and(
        mine,
        eq(replicas.replicaType, 'emergency'),
        inArray(replicas.status, [...ACTIVE_REPLICA_STATUSES]),
        gte(replicas.createdAt, now - REBALANCE_REUSE_MS),
      ),
    )
    .orderBy(desc(replicas.createdAt))
    .limit(1)
  return row ?? null
}
