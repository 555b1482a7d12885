/**
 * Switch commands for an instance: where a requested switch goes, whether the instance is already
 * there, and queuing it so that at most one switch per instance is pending (whoever asks).
 */
import type { Database } from '../../db/client'
import type { Agent, Instance } from '../../db/schema'
import type { Env } from '../../env'
import { ApiError } from '../../errors'
import { chooseSafePool } from '../pools'
import { findPool } from '../../db/queries/find-pool'
import type { EnqueueResult } from '../../session/types'
import { tellAgent } from '../tell'

/** One pending switch per instance: the engine and people use the same key. */
export function switchDedupeKey(instanceId: string): string {
  return `switch:${instanceId}`
}

export type SwitchTarget = { mode: 'ondemand'; poolId: null } | { mode: 'spot'; poolId: string }

export type TargetChoice = { kind: 'already'; message: string } | { kind: 'switch'; target: SwitchTarget }

/**
 * The placement asked for: `ondemand`; `pool` (a known pool of the instance's type and region); or
 * `spot` (that pool, or the engine's safest cheap other pool).
 */
export async function chooseTarget(
  db: Database,
  instance: Instance,
  wanted: { target: 'ondemand' | 'pool' | 'spot'; poolId: string | null },
  now: number,
): Promise<TargetChoice> {
  if (wanted.target === 'ondemand') {
    return instance.mode === 'ondemand'
      ? { kind: 'already', message: `${instance.instanceId} already runs on-demand` }
      : { kind: 'switch', target: { mode: 'ondemand', poolId: null } }
  }
  if (wanted.poolId) {
    const pool = await findPool(db, wanted.poolId)
    if (!pool || pool.instanceType !== instance.instanceType || pool.region !== instance.region) {
      throw new ApiError('VALIDATION', 'unknown pool for this instance type and region', {
        fields: [
          { field: 'pool_id', message: `expected a pool of ${instance.instanceType} in ${instance.region}` },
        ],
      })
    }
    return instance.mode === 'spot' && instance.poolId === pool.id
      ? { kind: 'already', message: `${instance.instanceId} already runs in ${pool.id}` }
      : { kind: 'switch', target: { mode: 'spot', poolId: pool.id } }
  }
  if (wanted.target === 'pool') {
    throw new ApiError('VALIDATION', 'pool_id required for target pool', {
      fields: [{ field: 'pool_id', message: 'required' }],
    })
  }
  if (instance.mode === 'spot')
    return { kind: 'already', message: `${instance.instanceId} already runs on spot` }
  if (!instance.instanceType || !instance.region)
    throw new ApiError('CONFLICT', 'instance type and region not known yet')
  const pool = await chooseSafePool(
    db,
    { instanceType: instance.instanceType, region: instance.region, currentPoolId: instance.poolId },
    now,
  )
  if (!pool) throw new ApiError('CONFLICT', 'no pool of this instance type has a fresh price')
  return { kind: 'switch', target: { mode: 'spot', poolId: pool.poolId } }
}

/** Seconds the agent keeps the old instance: its own wait with auto-terminate on, 0 (keep) with it off. */
export function terminateWaitOf(agent: Agent): number {
  return agent.autoTerminateEnabled ? agent.terminateWaitSeconds : 0
}

/** Queues the switch of one instance (refused as a duplicate while another switch of it is pending). */
export function queueSwitch(
  env: Env,
  agent: Agent,
  instance: Instance,
  target: SwitchTarget,
  how: { priority: number; source: 'manual' | 'engine' | 'emergency' },
): Promise<EnqueueResult> {
  return tellAgent(env, agent, {
    instanceId: instance.instanceId,
    commandType: 'switch',
    targetMode: target.mode,
    targetPoolId: target.poolId,
    priority: how.priority,
    terminateWaitSeconds: terminateWaitOf(agent),
    source: how.source,
    dedupeKey: switchDedupeKey(instance.instanceId),
  })
}
