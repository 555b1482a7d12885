/**
 * What the options of an instance (its page and GET /api/client/instances/<id>/options) are built from
 * (engine/placement-options.ts), read from D1 only: the pools of the instance's region, the prices its
 * client sees of them and of each type's on-demand (db/queries/quotes.ts), and the agent's latest live
 * decision with what it saw of each pool.
 */
import { and, eq } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { agents, pools, type Agent, type Instance } from '../schema'
import { compatibleTypes } from '../../engine/compatibility'
import type { DecisionSeen, KnownPool, OptionsInput } from '../../engine/placement-options'
import type { SkipReason } from '../../engine/decide'
import type { BlockReason } from '../../engine/types'
import { workloadOf } from '../../engine/workload'
import { latestDecision } from './latest-decision'
import { onDemandSeries, pricesNow } from './quotes'

/** Pools of one region read per view, a bound: the shipped table's 79 types in six AZs fit twice over. */
export const MAX_REGION_POOLS = 1000

/** What a stored decision's `inputs` says of each pool (engine/run.ts inputsSummary); older rows lack `skipped`. */
const StoredInputs = z.object({
  pools: z
    .array(
      z.object({
        pool_id: z.string(),
        risk: z.number(),
        skipped: z.string().nullable().optional(),
        placement_score: z.number().optional(),
      }),
    )
    .catch([]),
  thresholds: z.object({ risk_threshold: z.number() }).nullable().catch(null),
})

/** The agent's latest live decision as the options read it, or null before its first one. */
async function latestDecisionSeen(db: Database, agent: Agent): Promise<DecisionSeen | null> {
  const row = await latestDecision(db, agent, false)
  if (!row) return null
  const inputs = StoredInputs.safeParse(row.inputs ?? {})
  const seen = inputs.success ? inputs.data : { pools: [], thresholds: null }
  return {
    decision: row.decision,
    targetMode: row.targetMode === 'spot' || row.targetMode === 'ondemand' ? row.targetMode : null,
    targetPoolId: row.targetPoolId,
    at: row.lastSeenAt,
    // Both written from a typed Decision (flows/engine-tick/decisions.ts, engine/run.ts).
    blockedBy: (Array.isArray(row.blockedBy) ? row.blockedBy : []) as BlockReason[],
    riskCap: seen.thresholds?.risk_threshold ?? null,
    pools: new Map(
      seen.pools.map((p) => [
        p.pool_id,
        {
          risk: p.risk,
          skipped: p.skipped as SkipReason | null | undefined,
          placementScore: p.placement_score,
        },
      ]),
    ),
  }
}

/**
 * The options of `inst` and its agent, when it is what the agent runs on now (an ended instance has
 * none) and its type and region are known; else null.
 */
export async function instanceOptions(
  db: Database,
  inst: Instance,
  now: number,
): Promise<{ agent: Agent; input: OptionsInput } | null> {
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, inst.agentId), eq(agents.clientId, inst.clientId)))
    .limit(1)
  if (!agent || agent.instanceId !== inst.instanceId || agent.status === 'deleted') return null
  const input = await optionsInput(db, agent, inst, now)
  return input ? { agent, input } : null
}

/** What the options of `agent` on `inst` are built from, or null while its type or region is unknown. */
async function optionsInput(
  db: Database,
  agent: Agent,
  inst: Instance,
  now: number,
): Promise<OptionsInput | null> {
  const { instanceType, region } = inst
  if (!instanceType || !region) return null
  const workload = workloadOf(agent, instanceType)
  const [known, decision] = await Promise.all([
    db
      .select({ poolId: pools.id, instanceType: pools.instanceType, az: pools.az })
      .from(pools)
      .where(eq(pools.region, region))
      .orderBy(pools.instanceType, pools.az)
      .limit(MAX_REGION_POOLS),
    latestDecisionSeen(db, agent),
  ])
  const types = [...new Set([...known.map((p) => p.instanceType), ...compatibleTypes(workload)])]
  const odSeries = new Map(types.map((t) => [t, onDemandSeries(t, region)]))
  const seen = await pricesNow(db, agent.clientId, [...known.map((p) => p.poolId), ...odSeries.values()], now)
  const priced: KnownPool[] = known.map((p) => ({ ...p, price: seen.get(p.poolId)?.price ?? null }))
  const onDemand = new Map(
    [...odSeries].flatMap(([type, series]) => {
      const price = seen.get(series)?.price
      return price === undefined ? [] : [[type, price] as const]
    }),
  )
  const azs = [...new Set([...known.map((p) => p.az), ...(inst.az ? [inst.az] : [])])].sort()
  return {
    workload,
    current: { mode: inst.mode, poolId: inst.poolId },
    pools: priced,
    azs,
    onDemand,
    decision,
    ...(agent.stateful && inst.az !== null && { statefulAz: inst.az }),
  }
}
