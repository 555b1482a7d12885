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

/**
 * The workload's Elastic IP is on this instance now (a switch or a promotion moved it there, after the
 * instance registered with its own IP): a later promotion names it as the address to follow.
 */
export async function recordPublicIp(
  db: Database,
  agent: Agent,
  instanceId: string,
  publicIp: string,
  now: number,
): Promise<void> {
  await db
    .update(instances)
    .set({ publicIp, updatedAt: now })
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
      ),
    )
}
