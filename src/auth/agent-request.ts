/**
 * A per-agent route's authentication and the agent its path names, in ONE D1 round trip: the bearer's
 * token row (agent or client token) and the agent, read in one batch, the agent scoped by the client
 * of that same token (a subquery), so it is never another client's. Installed agents call these routes
 * about 180 times an hour each (pending-commands every 15 s); each D1 round trip is a network hop in
 * production and a request to the local database under `wrangler dev`.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agentOfClientQuery } from '../db/queries/agent'
import { agentTokens, clientTokens, type Agent } from '../db/schema'
import { sha256Hex } from '../ids'
import { activeAgentTokenOf, agentTokenQuery, isAgentToken, principalOfAgentToken } from './agent-tokens'
import { activeClientOf, clientTokenQuery } from './middleware'
import type { Principal } from './principal'

export interface AgentRequest {
  principal: Extract<Principal, { kind: 'agent' }>
  /** The agent of the path among the token's client's agents (deleted ones too); undefined: none. */
  agent: Agent | undefined
}

/** 401 for an unknown, expired or revoked token and 403 for a suspended client, as `agentAuth`. */
export async function authenticateForAgent(
  db: Database,
  token: string,
  agentId: string,
  now: number,
): Promise<AgentRequest> {
  const hash = await sha256Hex(token)
  if (isAgentToken(token)) {
    const clientOfToken = sql`(select ${agentTokens.clientId} from ${agentTokens} where ${agentTokens.tokenHash} = ${hash})`
    const [[row], [agent]] = await db.batch([
      agentTokenQuery(db, hash),
      agentOfClientQuery(db, clientOfToken, agentId),
    ])
    return { principal: principalOfAgentToken(activeAgentTokenOf(row, hash)), agent }
  }
  const clientOfToken = sql`(select ${clientTokens.clientId} from ${clientTokens} where ${clientTokens.tokenHash} = ${hash})`
  const [[row], [agent]] = await db.batch([
    clientTokenQuery(db, hash, now),
    agentOfClientQuery(db, clientOfToken, agentId),
  ])
  return { principal: { kind: 'agent', clientId: activeClientOf(row, hash).id }, agent }
}
