/**
 * Failover on a 2-minute interruption notice (termination-imminent): promote the agent's best replica
 * (`ready`, else `syncing`) within the request, and keep the notice as one interruption event of the
 * pool. Without a usable replica the notice stays outstanding (409: the agent launches an emergency
 * replica, which is promoted the moment it is usable). A repeated notice re-evaluates while it is
 * outstanding, and gets the same answer once a replica was promoted for it.
 */
import { findInstanceOfAgent } from '../../db/queries/instances'
import type { Database } from '../../db/client'
import { type Agent, type Replica, type StatefulDetail } from '../../db/schema'
import type { Env } from '../../env'
import { newId } from '../../ids'
import { AWAITING_REPLICA, findNotice, type NoticeEvent } from './notice'
import { isUsable, promoteForNotice } from './notice-promotion'
import { activeReplicas, findReplica } from './store'
import { clock } from '../../clock'
import { notifyClient } from '../notifications'
import { recordEvent } from '../events'

export interface Notice {
  instanceId: string
  /** Agent clock, epoch ms. */
  terminationTime: number | null
  detectedAt: number | null
  replicaId: string | null
  /** The notice may feed other tenants' risk (auth/principal.ts feedsOtherTenants). */
  shared: boolean
  /** A stateful agent's drain steps, when it reports them with the notice (kept in the event's detail). */
  drainSteps: StatefulDetail['steps'] | null
}

export type Failover =
  | {
      kind: 'promoted'
      replicaId: string
      newInstanceId: string
      /** The control plane's part so far: notice received → promoted (its command completes later). */
      failoverMs: number
      /** False for a repeated notice answered as before. */
      fresh: boolean
    }
  | { kind: 'no_replica' }

/** Fails the agent over for a notice received at server time `now`. */
export async function failOver(
  env: Env,
  db: Database,
  agent: Agent,
  notice: Notice,
  now: number,
): Promise<Failover> {
  const earlier = await findNotice(db, agent, notice.instanceId, notice.terminationTime)
  if (earlier?.replicaId && earlier.newInstanceId) {
    return {
      kind: 'promoted',
      replicaId: earlier.replicaId,
      newInstanceId: earlier.newInstanceId,
      failoverMs: earlier.failoverMs ?? now - earlier.receivedAt,
      fresh: false,
    }
  }
  const instance = await findInstanceOfAgent(db, agent, notice.instanceId)
  const event: NoticeEvent = earlier ?? {
    id: newId('evt'),
    clientId: agent.clientId,
    agentId: agent.id,
    instanceId: notice.instanceId,
    poolId: instance?.poolId ?? null,
    kind: 'termination_notice',
    terminationTime: notice.terminationTime,
    detectedAt: notice.detectedAt,
    receivedAt: now,
    action: AWAITING_REPLICA,
    replicaId: null,
    newInstanceId: null,
    failoverMs: null,
    detail: notice.drainSteps ? { drainSteps: notice.drainSteps } : null,
    shared: notice.shared,
  }
  const replica = await bestReplica(db, agent, notice.replicaId)
  if (replica) {
    const promoted = await promoteForNotice(env, db, agent, { stored: earlier !== null, event }, replica, now)
    return {
      kind: 'promoted',
      replicaId: promoted.replicaId,
      newInstanceId: promoted.newInstanceId,
      // clock.now() advances only across I/O in Workers: this spans the request's reads and writes.
      failoverMs: clock.now() - event.receivedAt,
      fresh: true,
    }
  }
  if (!earlier) {
    await db.batch([
      recordEvent(db, event),
      notifyClient(db, {
        clientId: agent.clientId,
        agentId: agent.id,
        kind: 'interruption',
        severity: 'warning',
        message: `${agent.logicalAgentId}: spot interruption of ${notice.instanceId}, no replica ready: an emergency replacement is being launched`,
        createdAt: now,
      }),
    ])
  }
  return { kind: 'no_replica' }
}

/** The replica to promote: the one named if it can be, else the newest `ready`, else the newest `syncing`. */
async function bestReplica(
  db: Database,
  agent: Agent,
  replicaId: string | null,
): Promise<(Replica & { instanceId: string }) | null> {
  if (replicaId) {
    const named = await findReplica(db, agent, replicaId)
    if (named && isUsable(named)) return named
  }
  const usable = (await activeReplicas(db, agent)).filter(isUsable)
  return usable.find((r) => r.status === 'ready') ?? usable[0] ?? null
}
