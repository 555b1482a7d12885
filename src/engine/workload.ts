/**
 * An agent's workload as the engine places it (compatibility.ts) and the instance types it is priced
 * on. Pure: the engine runs, the pricing reporter's config and the report's scope all ask here.
 */
import { isLegacyAgent } from '../protocol'
import { compatibleTypes, imageFromFacts, type Workload } from './compatibility'
import { instanceTypeSpec } from './instance-types'

/** What an `agents` row says of its workload. */
export interface WorkloadAgent {
  agentVersion: string | null
  baseInstanceType: string | null
  allowedInstanceTypes: string[] | null
  /** What the workload's image boots, as its agent read it from DescribeImages; null: unknown. */
  imageArchitecture: string | null
  imageEnaSupport: boolean | null
}

/**
 * At most this many types are priced per workload (its current and base type included): every
 * (type, AZ) pool is a D1 row per price change, and the engine reads at most 90 pools (D1 binds).
 */
export const MAX_PRICED_TYPES = 8
/**
 * By the default rule a type is priced when its list on-demand price is at most this multiple of the
 * base type's: a larger type's spot price rarely drops below a same-size one's, and pricing it costs rows.
 */
export const PRICED_LIST_PRICE_RATIO = 1.25

/**
 * The workload of an agent now on `currentType`. An installed agent (< 5) cannot launch another type:
 * its workload allows only the type it runs on. The image's own facts decide what it boots; without
 * them, the base type stands in (compatibility.ts).
 */
export function workloadOf(agent: WorkloadAgent, currentType: string): Workload {
  if (isLegacyAgent(agent.agentVersion)) return { baseType: currentType, allowedTypes: [currentType] }
  const image = imageFromFacts(agent.imageArchitecture, agent.imageEnaSupport)
  return {
    baseType: agent.baseInstanceType ?? currentType,
    allowedTypes: agent.allowedInstanceTypes,
    ...(image ? { image } : {}),
  }
}

/**
 * The types to price for a workload on `currentType`: the current type first, then the base type, then
 * the compatible types by list price (the default rule keeps only those near the base type's price; an
 * allow-list is taken as given), MAX_PRICED_TYPES in all.
 */
export function pricedTypes(workload: Workload, currentType: string): string[] {
  const base = instanceTypeSpec(workload.baseType)
  const listPrice = (t: string) => instanceTypeSpec(t)?.onDemandUsEast1 ?? Number.POSITIVE_INFINITY
  const others = compatibleTypes(workload)
    .filter((t) => t !== workload.baseType && t !== currentType)
    .filter(
      (t) => workload.allowedTypes || !base || listPrice(t) <= base.onDemandUsEast1 * PRICED_LIST_PRICE_RATIO,
    )
    .sort((a, b) => listPrice(a) - listPrice(b) || (a < b ? -1 : 1))
  return [...new Set([currentType, workload.baseType, ...others])].slice(0, MAX_PRICED_TYPES)
}
