/**
 * Promotion: the replica's instance becomes the agent's primary (its real EC2 id), recorded as a
 * switch with the prices of the control plane's own market data and its server times. The replica's
 * status is claimed first (compare-and-set), then the instance, the agent and the switch change in one
 * batch (each table's writer builds its statement), with any extra statements of the caller (an
 * interruption's event and the old instance's end).
 */
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../../db/client'
import { type Agent, type Replica } from '../../db/schema'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { promotionDowntimeMs } from '../switch/times'
import { newId } from '../../ids'
import { switchMarketAt } from '../../db/queries/prices-at'
import { paidPrice } from '../../prices/paid'
import { moveAgentTo } from '../agents'
import { upsertTakenOverInstance } from '../instances'
import { recordSwitch } from '../switch/store'
import { claimPromotion, findReplica, releasePromotion } from './store'
import { refuse, type Refusal } from '../refusal'

export interface Promotion {
  ok: true
  replicaId: string
  newInstanceId: string
  oldInstanceId: string | null
  /** The switch that records it (null when the replica was already promoted: nothing changed). */
  switchId: string | null
  /** False when the replica was already promoted (nothing changed). */
  changed: boolean
}

export interface PromotionFacts {
  trigger: 'replica_promotion' | 'interruption'
  /** Server time the promotion started from (an interruption: its notice received), epoch ms. */
  initiatedAt: number
  /** The old instance's end when known (an interruption's time), server epoch ms. */
  oldEndedAt: number | null
}

/** Promotes at server time `now`; refused (CONFLICT): a replica without an instance or in an ended state. */
export async function promoteReplica(
  db: Database,
  agent: Agent,
  replica: Replica,
  facts: PromotionFacts,
  now: number,
  extra: BatchItem<'sqlite'>[] = [],
): Promise<Promotion | Refusal> {
  if (!replica.instanceId) return refuse('CONFLICT', 'the replica has no instance yet')
  const base = {
    ok: true as const,
    replicaId: replica.id,
    newInstanceId: replica.instanceId,
    oldInstanceId: agent.instanceId,
  }
  if (replica.status === 'promoted') return { ...base, switchId: null, changed: false }
  if (replica.status !== 'ready' && replica.status !== 'syncing') {
    return refuse('CONFLICT', `a ${replica.status} replica can't be promoted`, {
      status: replica.status,
    })
  }
  const old = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const newPoolId = replica.mode === 'spot' ? replica.poolId : null
  const oldPoolId = old?.mode === 'spot' ? old.poolId : null
  const market = await switchMarketAt(
    db,
    {
      clientId: agent.clientId,
      instanceType: replica.instanceType,
      region: replica.region,
      oldPoolId,
      newPoolId,
    },
    now,
  )
  const instanceFacts = {
    agentId: agent.id,
    instanceType: replica.instanceType,
    region: replica.region,
    az: replica.az,
    mode: replica.mode,
    poolId: newPoolId,
  }
  const times = { oldEndedAt: facts.oldEndedAt, trafficSwitchedAt: null, readyAt: replica.readyAt }
  const switchId = newId('swi')
  const records = [
    upsertTakenOverInstance(db, agent.clientId, replica.instanceId, instanceFacts, now),
    moveAgentTo(db, agent.id, replica.instanceId, now),
    recordSwitch(db, {
      id: switchId,
      clientId: agent.clientId,
      agentId: agent.id,
      trigger: facts.trigger,
      oldInstanceId: agent.instanceId,
      newInstanceId: replica.instanceId,
      oldMode: old?.mode ?? null,
      oldPoolId,
      newMode: replica.mode,
      newPoolId,
      instanceType: replica.instanceType,
      region: replica.region,
      onDemandPrice: market.onDemand,
      oldPrice: paidPrice(old?.mode, market.oldSpot, market.onDemand),
      newPrice: paidPrice(replica.mode, market.newSpot, market.onDemand) ?? replica.hourlyCost,
      // Server times: the control plane itself saw each of these moments.
      initiatedAt: facts.initiatedAt,
      launchedAt: replica.launchedAt,
      readyAt: replica.readyAt,
      oldTerminatedAt: facts.oldEndedAt,
      downtimeMs: promotionDowntimeMs(times),
      durationMs: Math.max(0, now - facts.initiatedAt),
      receivedAt: now,
      oldTerminationConfirmedAt: facts.oldEndedAt === null ? null : now,
    }),
    ...extra,
  ] as const
  // D1 has no transaction to read and write in: the replica's status is claimed first, so of two
  // promotions (concurrent requests, a replayed result) one records the switch, the other nothing.
  if (!(await claimPromotion(db, replica, now))) {
    const current = await findReplica(db, agent, replica.id)
    if (current?.status === 'promoted') return { ...base, switchId: null, changed: false }
    return refuse('CONFLICT', `a ${current?.status ?? 'removed'} replica can't be promoted`, {
      status: current?.status ?? null,
    })
  }
  try {
    await db.batch(records)
  } catch (err) {
    await releasePromotion(db, replica, now)
    throw err
  }
  return { ...base, switchId, changed: true }
}
