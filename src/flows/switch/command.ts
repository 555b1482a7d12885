/**
 * Switch commands for an instance: where a requested switch goes, whether the instance is already
 * there, and queuing it so that at most one switch per instance is pending (whoever asks).
 */
import type { Database } from '../../db/client'
import type { Agent, Instance } from '../../db/schema'
import type { Env } from '../../env'
import { chooseSafePool } from '../pools'
import { findPool } from '../../db/queries/find-pool'
import type { EnqueueResult } from '../../session/types'
import { tellAgent } from '../tell'
import { refuse, type Refusal } from '../refusal'
import { isLegacyAgent } from '../../protocol'
import { parsePoolId } from '../../prices/pool-id'
import { pricedTypes, workloadOf, type WorkloadAgent } from '../../engine/workload'

/** One pending switch per instance: the engine and people use the same key. */
export function switchDedupeKey(instanceId: string): string {
  return `switch:${instanceId}`
}

export type SwitchTarget = { mode: 'ondemand'; poolId: null } | { mode: 'spot'; poolId: string }

export type TargetChoice =
  | { ok: true; kind: 'already'; message: string }
  /** `note`: what the user should know of this switch (a stateful workload's address changes across AZs). */
  | { ok: true; kind: 'switch'; target: SwitchTarget; note?: string }

/**
 * The placement asked for: `ondemand`; `pool` (a known pool of the region of a type the workload is
 * priced on: its own, or one it may move to, engine/workload.ts); or
 * `spot` (that pool, or the engine's safest cheap other pool). Refused: a pool that is no pool of the
 * instance, or none named for `pool` (VALIDATION); no type and region, or no priced pool (CONFLICT).
 * A stateful agent's 'go spot' stays in its AZ; a pool named in another AZ is taken, with a note: its
 * agent copies the data volumes there from a snapshot and its private address changes (docs/agent.md).
 */
export async function chooseTarget(
  db: Database,
  agent: WorkloadAgent & { stateful: boolean },
  instance: Instance,
  wanted: { target: 'ondemand' | 'pool' | 'spot'; poolId: string | null },
  now: number,
): Promise<TargetChoice | Refusal> {
  if (wanted.target === 'ondemand') {
    return instance.mode === 'ondemand'
      ? { ok: true, kind: 'already', message: `${instance.instanceId} already runs on-demand` }
      : { ok: true, kind: 'switch', target: { mode: 'ondemand', poolId: null } }
  }
  // A stateful workload prefers its AZ: its data volumes move there without a copy, its address stays.
  const statefulAz = agent.stateful && instance.az !== null ? instance.az : undefined
  if (wanted.poolId) {
    const pool = await findPool(db, wanted.poolId)
    const types = instance.instanceType
      ? pricedTypes(workloadOf(agent, instance.instanceType), instance.instanceType)
      : []
    if (!pool || !types.includes(pool.instanceType) || pool.region !== instance.region) {
      return refuse('VALIDATION', 'unknown pool for this workload and region', {
        fields: [
          {
            field: 'pool_id',
            message: `expected a pool of ${types.join(', ') || instance.instanceType} in ${instance.region}`,
          },
        ],
      })
    }
    if (instance.mode === 'spot' && instance.poolId === pool.id)
      return { ok: true, kind: 'already', message: `${instance.instanceId} already runs in ${pool.id}` }
    const target = { mode: 'spot', poolId: pool.id } as const
    return statefulAz !== undefined && pool.az !== statefulAz
      ? {
          ok: true,
          kind: 'switch',
          target,
          note:
            `stateful: the data volumes are copied from ${statefulAz} to ${pool.az} from a snapshot taken ` +
            'during the switch, and the private address changes',
        }
      : { ok: true, kind: 'switch', target }
  }
  if (wanted.target === 'pool') {
    return refuse('VALIDATION', 'pool_id required for target pool', {
      fields: [{ field: 'pool_id', message: 'required' }],
    })
  }
  if (instance.mode === 'spot')
    return { ok: true, kind: 'already', message: `${instance.instanceId} already runs on spot` }
  if (!instance.instanceType || !instance.region)
    return refuse('CONFLICT', 'instance type and region not known yet')
  const pool = await chooseSafePool(
    db,
    instance.clientId,
    {
      instanceType: instance.instanceType,
      region: instance.region,
      currentPoolId: instance.poolId,
      ...(statefulAz !== undefined && { statefulAz }),
    },
    now,
  )
  if (!pool) return refuse('CONFLICT', 'no pool of this instance type has a fresh price')
  return { ok: true, kind: 'switch', target: { mode: 'spot', poolId: pool.poolId } }
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
  const targetType = target.poolId
    ? (parsePoolId(target.poolId)?.instanceType ?? null)
    : instance.instanceType
  return tellAgent(env, agent, {
    instanceId: instance.instanceId,
    commandType: 'switch',
    targetMode: target.mode,
    targetPoolId: target.poolId,
    // Installed agents read the type from the pool id and never get another type (engine/workload.ts).
    ...(!isLegacyAgent(agent.agentVersion) &&
      targetType && { payload: { target_instance_type: targetType } }),
    priority: how.priority,
    terminateWaitSeconds: terminateWaitOf(agent),
    source: how.source,
    dedupeKey: switchDedupeKey(instance.instanceId),
  })
}
