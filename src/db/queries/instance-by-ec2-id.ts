/**
 * The active instance rows with an EC2 id, with their agents: one client's, or every client's for an
 * operator (EC2 ids are unique per account, not across clients). Indexed both ways (`instances_instance`
 * for the operator's lookup), so neither scans the instances table.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, instances } from '../schema'

export function activeInstancesByEc2Id(db: Database, instanceId: string, clientId: string | null) {
  return db
    .select({ instance: instances, agent: agents })
    .from(instances)
    .innerJoin(agents, eq(agents.id, instances.agentId))
    .where(
      and(
        eq(instances.instanceId, instanceId),
        eq(instances.status, 'active'),
        clientId ? eq(instances.clientId, clientId) : undefined,
      ),
    )
    .limit(2)
}
