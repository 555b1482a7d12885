/** The instances of an agent (EC2 facts). */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { instances, type Agent, type Instance } from '../db/schema'

/** The agent's instance with this EC2 id, or null. */
export async function findInstanceOfAgent(
  db: Database,
  agent: Agent,
  instanceId: string,
): Promise<Instance | null> {
  const [row] = await db
    .select()
    .from(instances)
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
      ),
    )
    .limit(1)
  return row ?? null
}
