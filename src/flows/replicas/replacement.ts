/**
 * When the replacement for an interruption fails to launch (no capacity in its pool, or nobody
 * launched it): the next attempt, in the safest pool not tried yet for that notice (a capacity error
 * also keeps the engine away from the pool: failed replicas are its capacity data), then on-demand for
 * agents that can launch it, and when nothing is left the notice is marked `replacement_failed` with
 * every attempt's reason, the interrupted instance ends at the notice's time (AWS reclaims it anyway)
 * and a notification says the workload has no replacement. Never silent.
 */
import { and, eq, like, or } from 'drizzle-orm'
import { isLegacyAgent } from '../../protocol'
import type { Database } from '../../db/client'
import { replicas, type Agent, type Replica } from '../../db/schema'
import type { Env } from '../../env'
import { newId } from '../../ids'
import { onDemandSeries, priceNow } from '../../db/queries/quotes'
import { parsePoolId, poolIdOf } from '../../prices/pool-id'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { tellReplicaLaunch } from './commands'
import { noticeEnd, outstandingNotice, REPLACEMENT_FAILED, type NoticeEvent } from './notice'
import { placeReplica, type PlacementWish } from './placement'
import { chooseSafePool } from '../pools'
import { pricedTypes, workloadOf } from '../../engine/workload'
import { activeReplicas, createReplica, failUnlaunchedReplicas } from './store'
import { endUnreplacedInstance } from '../instances'
import { notifyClient } from '../notifications'
import { recordNoticeAnswer } from '../events'

/** The signal key of a notice's emergency replicas (attempts after the first add `#<n>`). */
export function noticeKey(terminationTime: number | null, instanceId: string): string {
  return `termination:${terminationTime ?? instanceId}`
}

/** Every replica made for this notice, oldest first. */
export async function attemptsFor(db: Database, agent: Agent, key: string): Promise<Replica[]> {
  return db
    .select()
    .from(replicas)
    .where(
      and(
        eq(replicas.clientId, agent.clientId),
        eq(replicas.agentId, agent.id),
        or(eq(replicas.signalKey, key), like(replicas.signalKey, `${key}#%`)),
      ),
    )
    .orderBy(replicas.createdAt)
}

export type Replacement =
  { kind: 'none' } | { kind: 'retried'; replica: Replica } | { kind: 'gave_up'; reasons: string[] }

/**
 * After a replica failed at server time `now`: while a notice of its agent is outstanding and no
 * other replica is on its way, the next attempt is made (and the agent told), or the failure recorded.
 */
export async function replaceFailedReplica(
  env: Env,
  db: Database,
  agent: Agent,
  now: number,
): Promise<Replacement> {
  const notice = await outstandingNotice(db, agent, now)
  if (!notice?.instanceId) return { kind: 'none' }
  if ((await activeReplicas(db, agent)).length > 0) return { kind: 'none' }
  const key = noticeKey(notice.terminationTime, notice.instanceId)
  const attempts = await attemptsFor(db, agent, key)
  // The interrupted instance's agent launches replacements: once it is gone, nobody will.
  const next = isOver(notice, now) ? null : await nextPlacement(db, agent, notice, attempts, now)
  if (!next) return giveUp(db, agent, notice, attempts, now)
  const id = newId('rep')
  await createReplica(db, {
    id,
    clientId: agent.clientId,
    agentId: agent.id,
    replicaType: 'emergency',
    mode: next.mode,
    status: 'launching',
    poolId: next.poolId,
    instanceType: next.instanceType,
    region: next.region,
    az: next.az,
    parentInstanceId: notice.instanceId,
    signalKey: `${key}#${attempts.length + 1}`,
    hourlyCost: next.price,
    createdAt: now,
    updatedAt: now,
  })
  const [replica] = await db.select().from(replicas).where(eq(replicas.id, id)).limit(1)
  await tellReplicaLaunch(env, agent, replica!)
  return { kind: 'retried', replica: replica! }
}

/** After its instance's end, a notice's replacement has this long to show up (a report in flight). */
export const NOTICE_GRACE_MS = 5 * 60_000

function isOver(notice: NoticeEvent, now: number): boolean {
  return now > noticeEnd(notice) + NOTICE_GRACE_MS
}

/**
 * The periodic check of an outstanding notice: past its instance's end (and the grace), what is still
 * `launching` never will be; with nothing on its way, the replacement has failed (recorded, notified).
 */
export async function settleOutstandingNotice(
  env: Env,
  db: Database,
  agent: Agent,
  now: number,
): Promise<void> {
  const notice = await outstandingNotice(db, agent, now)
  if (!notice || !isOver(notice, now)) return
  await failUnlaunchedReplicas(db, agent, 'never launched: the interrupted instance ended first', now)
  await replaceFailedReplica(env, db, agent, now)
}

/** A spot pool in a zone not tried yet; then on-demand in the interrupted zone; null when all were tried. */
async function nextPlacement(
  db: Database,
  agent: Agent,
  notice: NoticeEvent,
  attempts: Replica[],
  now: number,
): Promise<InterruptionPlacement | null> {
  const tried = attempts.filter((r) => r.mode === 'spot').map((r) => r.az)
  const onDemandAz = attempts.some((r) => r.mode === 'ondemand')
    ? null
    : (azOf(notice.poolId) ?? attempts[0]?.az ?? null)
  return placeForInterruption(db, agent, { excludeZones: tried }, onDemandAz, now)
}

export interface InterruptionPlacement {
  mode: 'spot' | 'ondemand'
  poolId: string
  instanceType: string
  region: string
  az: string
  price: number | null
}

/**
 * Where an interruption's replacement goes: the safest spot pool the wish allows, else (agents that can
 * launch it, `onDemandAz` given) on-demand in that AZ; null when neither is possible. The wish names
 * zones, never a pool, so the only refusal of a spot placement is that none fits. A stateful agent's
 * data volumes stay in its AZ (a replacement there reattaches them: nothing lost; elsewhere it restores
 * them from a snapshot, losing up to the RPO), so in `onDemandAz` first: spot of any type the workload
 * may run on (never the interrupted pool), then on-demand; a spot pool elsewhere only when both failed
 * (nextPlacement excludes a tried spot AZ and passes no AZ once on-demand was tried).
 */
export async function placeForInterruption(
  db: Database,
  agent: Agent,
  wish: Omit<PlacementWish, 'poolId'>,
  onDemandAz: string | null,
  now: number,
): Promise<InterruptionPlacement | null> {
  if (agent.stateful && onDemandAz) {
    const here =
      (wish.excludeZones?.includes(onDemandAz) ? null : await spotPlacementIn(db, agent, onDemandAz, now)) ??
      (await onDemandPlacement(db, agent, onDemandAz, now))
    if (here) return here
  }
  const spot = await placeReplica(db, agent, wish, now)
  if (spot.ok) return { mode: 'spot', ...spot.placement }
  return onDemandPlacement(db, agent, onDemandAz, now)
}

/** The safest spot pool in `az` of any type the agent's workload is priced on but its current pool; null when none fits. */
async function spotPlacementIn(
  db: Database,
  agent: Agent,
  az: string,
  now: number,
): Promise<InterruptionPlacement | null> {
  const current = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  if (!current?.instanceType || !current.region) return null
  const chosen = await chooseSafePool(
    db,
    agent.clientId,
    {
      instanceType: current.instanceType,
      region: current.region,
      currentPoolId: current.poolId ?? poolIdOf(current.instanceType, az),
      statefulAz: az,
      otherTypes: pricedTypes(workloadOf(agent, current.instanceType), current.instanceType).slice(1),
    },
    now,
  )
  if (!chosen) return null
  const { poolId, instanceType, region, price } = chosen
  return { mode: 'spot', poolId, instanceType, region, az, price }
}

/** On-demand in `onDemandAz` for agents that can launch it; null otherwise. */
async function onDemandPlacement(
  db: Database,
  agent: Agent,
  onDemandAz: string | null,
  now: number,
): Promise<InterruptionPlacement | null> {
  // Installed agents launch whatever they list as spot: they have no on-demand replica.
  if (isLegacyAgent(agent.agentVersion) || !onDemandAz || !agent.instanceId) return null
  const current = await findInstanceOfAgent(db, agent, agent.instanceId)
  if (!current?.instanceType || !current.region) return null
  const onDemand = await priceNow(
    db,
    agent.clientId,
    onDemandSeries(current.instanceType, current.region),
    now,
  )
  return {
    mode: 'ondemand',
    poolId: poolIdOf(current.instanceType, onDemandAz),
    instanceType: current.instanceType,
    region: current.region,
    az: onDemandAz,
    price: onDemand?.price ?? null,
  }
}

function azOf(poolId: string | null): string | null {
  return poolId ? (parsePoolId(poolId)?.az ?? null) : null
}

async function giveUp(
  db: Database,
  agent: Agent,
  notice: NoticeEvent,
  attempts: Replica[],
  now: number,
): Promise<Replacement> {
  const reasons = attempts.map(
    (r) => `${r.mode === 'spot' ? r.poolId : `on-demand in ${r.az}`}: ${r.errorMessage ?? r.status}`,
  )
  if (isOver(notice, now)) reasons.push(`${notice.instanceId} ended before a replacement ran`)
  if (reasons.length === 0) reasons.push('no other pool to launch in')
  await db.batch([
    recordNoticeAnswer(db, notice.id, { action: REPLACEMENT_FAILED, detail: { attempts: reasons } }),
    // AWS reclaims it at the notice's time whatever happens here.
    endUnreplacedInstance(db, agent, notice.instanceId!, noticeEnd(notice), now),
    notifyClient(db, {
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'interruption',
      severity: 'error',
      message: `${agent.logicalAgentId}: spot interruption of ${notice.instanceId}: no replacement could be launched (${reasons.join('; ')}); the workload has no running instance`,
      createdAt: now,
    }),
  ])
  return { kind: 'gave_up', reasons }
}
