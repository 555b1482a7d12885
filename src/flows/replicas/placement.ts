/**
 * Where a new replica of an agent goes: the engine's choice is a pool of its instance's type and region,
 * never its current pool; a pool the caller names may be of another type the workload may run on
 * (engine/compatibility.ts: never one its image cannot boot).
 */
import { findInstanceOfAgent } from '../../db/queries/instances'
import type { Database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { ChosenPool } from '../../engine/choose-pool'
import { chooseSafePool } from '../pools'
import { findPool } from '../../db/queries/find-pool'
import { priceNow } from '../../db/queries/quotes'
import { parsePoolId, regionOfAz } from '../../prices/pool-id'
import { refuse, type Refusal } from '../refusal'
import { typeExclusion } from '../../engine/compatibility'
import { typeExclusionWords } from '../../engine/type-words'
import { workloadOf } from '../../engine/workload'

export interface PlacementWish {
  /** A pool the caller chose; otherwise the engine's safest cheap one. */
  poolId?: string | null
  preferredZones?: string[]
  excludeZones?: string[]
  maxHourlyCost?: number | null
  /** The replica runs already (its agent launched it): its pool is recorded whatever its type. */
  launched?: boolean
}

export interface Placement {
  poolId: string
  instanceType: string
  region: string
  az: string
  /** The pool's spot price as the agent's client sees it, when known. */
  price: number | null
  /** The pool the agent's instance runs in now (null on on-demand). */
  currentPoolId: string | null
}

/** The pool the agent's instance runs in now (null on on-demand or unknown). */
export async function currentPoolOf(db: Database, agent: Agent): Promise<string | null> {
  const current = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  return current?.poolId ?? null
}

/**
 * The pool for a new replica; refused (CONFLICT) when none fits, VALIDATION for a malformed pool id or
 * a named pool of a type the workload may not run on.
 */
export async function placeReplica(
  db: Database,
  agent: Agent,
  wish: PlacementWish,
  now: number,
): Promise<{ ok: true; placement: Placement } | Refusal> {
  const current = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const currentPoolId = current?.poolId ?? null
  if (wish.poolId) {
    const ref = parsePoolId(wish.poolId)
    if (!ref)
      return refuse('VALIDATION', 'invalid pool_id', {
        fields: [{ field: 'pool_id', message: 'expected <instance_type>.<az>' }],
      })
    const runsOn = current?.instanceType
    const workload = runsOn && !wish.launched ? workloadOf(agent, runsOn) : null
    const why = workload && typeExclusion(ref.instanceType, workload)
    if (workload && why)
      return refuse('VALIDATION', `the workload cannot run on ${ref.instanceType}`, {
        fields: [{ field: 'pool_id', message: typeExclusionWords(why, ref.instanceType, workload) }],
      })
    const [known, seen] = await Promise.all([
      findPool(db, wish.poolId),
      priceNow(db, agent.clientId, wish.poolId, now),
    ])
    const placement = {
      poolId: wish.poolId,
      instanceType: known?.instanceType ?? ref.instanceType,
      region: known?.region ?? current?.region ?? regionOfAz(ref.az),
      az: known?.az ?? ref.az,
      price: seen?.price ?? null,
      currentPoolId,
    }
    return { ok: true, placement }
  }
  if (!current?.instanceType || !current.region) {
    return refuse('CONFLICT', "the agent's instance type and region are not known yet")
  }
  const chosen: ChosenPool | null = await chooseSafePool(
    db,
    agent.clientId,
    {
      instanceType: current.instanceType,
      region: current.region,
      currentPoolId,
      preferredZones: wish.preferredZones,
      excludeZones: wish.excludeZones,
    },
    now,
  )
  if (!chosen) return refuse('CONFLICT', 'no other pool of this instance type has a fresh price')
  if (wish.maxHourlyCost != null && chosen.price > wish.maxHourlyCost) {
    return refuse('CONFLICT', `the chosen pool costs ${chosen.price}/h, above max_hourly_cost`)
  }
  return { ok: true, placement: { ...chosen, currentPoolId } }
}
