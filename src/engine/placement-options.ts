/**
 * The instance page's options: every instance type × AZ of the region the workload could run on or is
 * kept from, and why each is or is not its placement. Built from D1 alone (the pools, the prices the
 * client sees, the agent's latest stored decision and what it saw of each pool): no engine run per view,
 * so a settings change shows at once as a type reason and as the engine's view after its next run.
 */
import { compatibleTypes, typeExclusion, type TypeExclusion, type Workload } from './compatibility'
import type { SkipReason } from './decide'
import type { BlockReason, DecisionKind } from './types'

/** A pool of the region known in D1, with the price the client sees (null: none yet). */
export interface KnownPool {
  poolId: string
  instanceType: string
  az: string
  price: number | null
}

/** What the agent's latest live decision says, and what it saw of each pool it was given. */
export interface DecisionSeen {
  decision: DecisionKind
  targetMode: 'spot' | 'ondemand' | null
  targetPoolId: string | null
  blockedBy: BlockReason[]
  /** When it was last decided (epoch ms). */
  at: number
  /** The risk cap it decided with (its thresholds), when stored. */
  riskCap: number | null
  /** Per pool id: its risk, and why it was left out (null: weighed; undefined: not stored then). */
  pools: ReadonlyMap<string, { risk: number; skipped?: SkipReason | null; placementScore?: number }>
}

export interface OptionsInput {
  workload: Workload
  current: { mode: 'spot' | 'ondemand' | 'unknown'; poolId: string | null }
  pools: readonly KnownPool[]
  /** The region's AZs: where a type the workload may run on has no pool yet, a row says so. */
  azs: readonly string[]
  /** On-demand price per instance type, as the client sees it. */
  onDemand: ReadonlyMap<string, number>
  decision: DecisionSeen | null
  /** A stateful workload's AZ (EngineInput.statefulAz): the other AZs are not its options; absent: any AZ. */
  statefulAz?: string
}

/** Why an option is or is not the workload's placement. */
export type OptionWhy =
  | { kind: 'current' }
  /** The target of the latest decision: acted on, held back by `blockedBy`, or not worth a switch. */
  | { kind: 'pick'; decision: DecisionKind; blockedBy: BlockReason[] }
  /** Weighed by the latest decision, less value than its pick. */
  | { kind: 'weighed' }
  | { kind: 'type'; exclusion: TypeExclusion }
  /** Another AZ than a stateful workload's: its data volumes stay in `az`. */
  | { kind: 'stateful'; az: string }
  | { kind: 'no_price' }
  | { kind: 'skipped'; reason: SkipReason; riskCap: number | null }
  /** Allowed and priced, but not in the latest decision: the engine weighs it at its next run. */
  | { kind: 'not_weighed' }

export interface OptionRow {
  instanceType: string
  az: string
  /** Null: no pool of this type in this AZ is known yet. */
  poolId: string | null
  spot: number | null
  onDemand: number | null
  /** The pool's risk (0-1) as the latest decision saw it. */
  risk: number | null
  /** The spot placement score (1-10) of the pool's AZ the latest decision weighed, when it had one. */
  placementScore: number | null
  why: OptionWhy
}

/** Order of the table: the current placement, the pick, the weighed ones, then the rest. */
const RANK: Record<OptionWhy['kind'], number> = {
  current: 0,
  pick: 1,
  weighed: 2,
  skipped: 3,
  not_weighed: 4,
  no_price: 5,
  type: 6,
  stateful: 7,
}

/** Why an option in `az` is not a stateful workload's, or null when the AZ may hold it. */
function statefulWhy(az: string, input: OptionsInput): OptionWhy | null {
  const keep = input.statefulAz
  return keep !== undefined && az !== keep ? { kind: 'stateful', az: keep } : null
}

function whyOf(pool: KnownPool, input: OptionsInput): OptionWhy {
  const { current, decision } = input
  if (current.mode === 'spot' && pool.poolId === current.poolId) return { kind: 'current' }
  const exclusion = typeExclusion(pool.instanceType, input.workload)
  if (exclusion) return { kind: 'type', exclusion }
  const elsewhere = statefulWhy(pool.az, input)
  if (elsewhere) return elsewhere
  if (pool.price === null) return { kind: 'no_price' }
  const seen = decision?.pools.get(pool.poolId)
  if (!decision || !seen) return { kind: 'not_weighed' }
  if (decision.targetMode === 'spot' && decision.targetPoolId === pool.poolId)
    return { kind: 'pick', decision: decision.decision, blockedBy: decision.blockedBy }
  // A decision stored before `skipped` was: only its risk against the cap can be told.
  const skipped =
    seen.skipped !== undefined
      ? seen.skipped
      : decision.riskCap !== null && seen.risk > decision.riskCap
        ? 'above_risk_threshold'
        : null
  // Skipped for a type, an AZ or a placement that no longer hold (settings changed, it moved): not judged yet.
  if (skipped === 'incompatible_type' || skipped === 'stateful_other_az' || skipped === 'current')
    return { kind: 'not_weighed' }
  if (skipped) return { kind: 'skipped', reason: skipped, riskCap: decision.riskCap }
  return { kind: 'weighed' }
}

/** One row per known pool of the region, plus one per allowed type × AZ without a pool; sorted. */
export function placementOptions(input: OptionsInput): OptionRow[] {
  const rows: OptionRow[] = input.pools.map((p) => ({
    instanceType: p.instanceType,
    az: p.az,
    poolId: p.poolId,
    spot: p.price,
    onDemand: input.onDemand.get(p.instanceType) ?? null,
    risk: input.decision?.pools.get(p.poolId)?.risk ?? null,
    placementScore: input.decision?.pools.get(p.poolId)?.placementScore ?? null,
    why: whyOf(p, input),
  }))
  const known = new Set(input.pools.map((p) => `${p.instanceType}|${p.az}`))
  for (const type of compatibleTypes(input.workload))
    for (const az of input.azs)
      if (!known.has(`${type}|${az}`))
        rows.push({
          instanceType: type,
          az,
          poolId: null,
          spot: null,
          onDemand: input.onDemand.get(type) ?? null,
          risk: null,
          placementScore: null,
          why: statefulWhy(az, input) ?? { kind: 'no_price' },
        })
  return rows.sort(
    (a, b) =>
      RANK[a.why.kind] - RANK[b.why.kind] ||
      (a.spot ?? Infinity) - (b.spot ?? Infinity) ||
      a.instanceType.localeCompare(b.instanceType) ||
      a.az.localeCompare(b.az),
  )
}
