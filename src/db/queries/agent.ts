/** Loading an agent on behalf of an authenticated client: the one place the tenant check lives. */
import { and, eq, type SQL } from 'drizzle-orm'
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
  options: { includeDeleted?: boolean } = {},
): Promise<Agent | undefined> {
  const [agent] = await agentOfClientQuery(db, clientId, agentId)
  return visibleAgent(agent, options)
}

/**
 * The read of `agentId` among the agents of `clientId` (alone, or in a batch): `clientId` may be a
 * subquery naming the client of the request's own token, so the agent is read in the same round trip.
 */
export function agentOfClientQuery(db: Database, clientId: string | SQL, agentId: string) {
  return db
    .select()
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.clientId, clientId)))
    .limit(1)
}

/** `agent` as `findAgent` answers it: undefined for a deleted one unless `includeDeleted`. */
export function visibleAgent(
  agent: Agent | undefined,
  { includeDeleted = false }: { includeDeleted?: boolean } = {},
): Agent | undefined {
  if (!agent || (!includeDeleted && (agent.status === 'deleted' || agent.deletedAt !== null)))
    return undefined
  return agent
}
