/**
 * A per-agent route's authentication and the agent its path names, in ONE D1 round trip: the bearer's
 * token row (agent or client token) and the agent, read in one batch, the agent scoped by the client
 * of that same token (a subquery), so it is never another client's; and whether D1's copy of the
 * agent's queue holds an open command (db/queries/open-commands.ts: a poll's answer when none does).
 * Installed agents call these routes about 180 times an hour each (pending-commands every 15 s); each
 * D1 round trip is a network hop in production and a request to the one local database under
 * `wrangler dev`.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agentOfClientQuery } from '../db/queries/agent'
import { openCommandQuery } from '../db/queries/open-commands'
import { agentTokens, clientTokens, type Agent } from '../db/schema'
import { sha256Hex } from '../ids'
import { activeAgentTokenOf, agentTokenQuery, isAgentToken, principalOfAgentToken } from './agent-tokens'
import { activeClientOf, clientTokenQuery } from './middleware'
import type { Principal } from './principal'

export interface AgentRequest {
  principal: Extract<Principal, { kind: 'agent' }>
  /** The agent of the path among the token's client's agents (deleted ones too); undefined: none. */
  agent: Agent | undefined
  /** D1 holds an open command of the agent (always read: one indexed row at most, same round trip). */
  hasOpenCommand: boolean
  /** When the token stops working (a rotated client token), epoch ms; null: not by itself. */
  tokenExpiresAt: number | null
}

/** 401 for an unknown, expired or revoked token and 403 for a suspended client, as `agentAuth`. */
export async function authenticateForAgent(
  db: Database,
  token: string,
  agentId: string,
  now: number,
): Promise<AgentRequest> {
  const hash = await sha256Hex(token)
  const tokens = isAgentToken(token) ? agentTokens : clientTokens
  const clientOfToken = sql`(select ${tokens.clientId} from ${tokens} where ${tokens.tokenHash} = ${hash})`
  const ofAgent = [
    agentOfClientQuery(db, clientOfToken, agentId),
    openCommandQuery(db, clientOfToken, agentId),
  ] as const
  if (isAgentToken(token)) {
    const [[row], [agent], open] = await db.batch([agentTokenQuery(db, hash), ...ofAgent])
    const principal = principalOfAgentToken(activeAgentTokenOf(row, hash))
    return { principal, agent, hasOpenCommand: open.length > 0, tokenExpiresAt: null }
  }
  const [[row], [agent], open] = await db.batch([clientTokenQuery(db, hash, now), ...ofAgent])
  return {
    principal: { kind: 'agent', clientId: activeClientOf(row, hash).id },
    agent,
    hasOpenCommand: open.length > 0,
    tokenExpiresAt: row?.expiresAt ?? null,
  }
}
