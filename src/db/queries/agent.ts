/** Loading an agent on behalf of an authenticated client: the one place the tenant check lives. */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, type Agent } from '../schema'

/**
 * This client's agent, or undefined exactly like an unknown agent: an agent of another client and (unless
 * `includeDeleted`: its command routes, for its uninstall) a deleted agent are not found.
 */
export async function findAgent(
  db: Database,
  clientId: string,
  agentId: string,
  { includeDeleted = false } = {},
): Promise<Agent | undefined> {
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.clientId, clientId)))
    .limit(1)
  if (!agent || (!includeDeleted && (agent.status === 'deleted' || agent.deletedAt !== null)))
    return undefined
  return agent
}
