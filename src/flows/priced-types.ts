/**
 * The instance types a pricing group (client, region, type: flows/pricing-reporters.ts) prices: every
 * type the workloads of its agents may be priced on (engine/workload.ts), the group's own type first.
 * Its reporter is told them in its config (`pricing_instance_types`), and a report is accepted for
 * them (prices/reportable.ts). Reads only.
 */
import { and, eq, isNull, ne } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents, instances } from '../db/schema'
import { AGENT_ON_ITS_INSTANCE } from '../db/queries/instances'
import { pricedTypes, workloadOf } from '../engine/workload'

/** At most this many types per group: one DescribeSpotPriceHistory call, at most ~100 pools a report. */
export const MAX_GROUP_TYPES = 16

export interface PricingGroup {
  clientId: string
  region: string
  instanceType: string
}

/** The types of `group`, its own first; just its own when none of its agents is known. */
export async function pricedTypesOfGroup(db: Database, group: PricingGroup): Promise<string[]> {
  const rows = await db
    .select({
      agentVersion: agents.agentVersion,
      baseInstanceType: agents.baseInstanceType,
      allowedInstanceTypes: agents.allowedInstanceTypes,
      imageArchitecture: agents.imageArchitecture,
      imageEnaSupport: agents.imageEnaSupport,
    })
    .from(agents)
    .innerJoin(instances, AGENT_ON_ITS_INSTANCE)
    .where(
      and(
        eq(agents.clientId, group.clientId),
        ne(agents.status, 'deleted'),
        isNull(agents.deletedAt),
        eq(instances.region, group.region),
        eq(instances.instanceType, group.instanceType),
      ),
    )
  return unionOfPricedTypes(group.instanceType, rows)
}

/** Pure: the union of the workloads' priced types on `instanceType`, it first, MAX_GROUP_TYPES at most. */
export function unionOfPricedTypes(
  instanceType: string,
  members: readonly Parameters<typeof workloadOf>[0][],
): string[] {
  const all = members.flatMap((m) => pricedTypes(workloadOf(m, instanceType), instanceType))
  return [...new Set([instanceType, ...all])].slice(0, MAX_GROUP_TYPES)
}
