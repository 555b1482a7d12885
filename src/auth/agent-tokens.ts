/**
 * Per-agent tokens: one per instance that registered with a signed instance identity document, bound
 * to (client, account, region, instance, agent). Only the SHA-256 of a token is stored; a token is
 * compared in constant time and never logged. An hour after its instance ended the token is revoked
 * (the hourly cron's `agent-tokens` job): a token or a document copied off a dead instance moves nothing.
 * Writes: `agent_tokens`.
 */
import { and, eq, isNull, lt, sql, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agentTokens, clients, instances, type AgentToken, type Client } from '../db/schema'
import { ApiError } from '../errors'
import { newId, newToken, sha256Hex, timingSafeEqual } from '../ids'
import type { Principal } from './principal'

/** Agent tokens start with this; client tokens never do, so a bearer says which kind it is. */
export const AGENT_TOKEN_PREFIX = 'sga'

/** Where an instance runs, as its signed document says. */
export interface InstancePlace {
  accountId: string
  region: string
  instanceId: string
}

/** True for a bearer that is an agent token (not a client token). */
export function isAgentToken(token: string): boolean {
  return token.startsWith(`${AGENT_TOKEN_PREFIX}_`)
}

/** How long after its instance's end a token still answers (a late report of the agent that ended it). */
export const REVOKE_AFTER_END_MS = 3_600_000

/** A new token for an instance of `agent`, and the insert that stores its hash (for the caller's batch). */
export async function mintAgentToken(
  db: Database,
  /** `agentId`: the id, or a subquery naming it (a first registration's row is found in its batch). */
  owner: { clientId: string; agentId: string | SQL },
  place: InstancePlace,
  now: number,
) {
  const token = newToken(AGENT_TOKEN_PREFIX)
  const insert = db.insert(agentTokens).values({
    id: newId('atk'),
    ...owner,
    ...place,
    tokenHash: await sha256Hex(token),
    createdAt: now,
  })
  return { token, insert }
}

/** The token row of an instance, or null when none registered verified from it. */
export async function tokenOfInstance(db: Database, place: InstancePlace): Promise<AgentToken | null> {
  const [row] = await db
    .select()
    .from(agentTokens)
    .where(
      and(
        eq(agentTokens.accountId, place.accountId),
        eq(agentTokens.region, place.region),
        eq(agentTokens.instanceId, place.instanceId),
      ),
    )
    .limit(1)
  return row ?? null
}

/** True when `token` is the one issued for `row` (constant time). */
export async function isTokenOf(row: AgentToken, token: string): Promise<boolean> {
  return timingSafeEqual(row.tokenHash, await sha256Hex(token))
}

/** The AWS accounts the agent was verified in (its logical id moves only within them). */
export async function accountsOfAgent(db: Database, agentId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ accountId: agentTokens.accountId })
    .from(agentTokens)
    .where(eq(agentTokens.agentId, agentId))
  return rows.map((r) => r.accountId)
}

/** The token row of a bearer agent token of an active client; 401 unknown, 403 suspended client. */
export async function agentTokenRow(db: Database, token: string): Promise<AgentToken> {
  const hash = await sha256Hex(token)
  const [row] = await agentTokenQuery(db, hash)
  return activeAgentTokenOf(row, hash)
}

/** The read of an agent token's row and its client's status by the token's SHA-256 (alone, or in a batch). */
export function agentTokenQuery(db: Database, hash: string) {
  return db
    .select({ token: agentTokens, status: clients.status })
    .from(agentTokens)
    .innerJoin(clients, eq(clients.id, agentTokens.clientId))
    .where(eq(agentTokens.tokenHash, hash))
    .limit(1)
}

/** The token of a row read by `agentTokenQuery` for `hash`; 401 without one, 403 suspended client. */
export function activeAgentTokenOf(
  row: { token: AgentToken; status: Client['status'] } | undefined,
  hash: string,
): AgentToken {
  if (!row || !timingSafeEqual(row.token.tokenHash, hash) || row.status === 'deleted')
    throw new ApiError('UNAUTHORIZED', 'invalid or revoked agent token')
  if (row.token.revokedAt !== null)
    throw new ApiError('UNAUTHORIZED', 'agent token revoked: its instance ended')
  if (row.status === 'suspended') throw new ApiError('FORBIDDEN', 'client suspended')
  return row.token
}

/** The principal of a request bearing the agent token of `row`: its agent and instance only. */
export function principalOfAgentToken(row: AgentToken): Extract<Principal, { kind: 'agent' }> {
  const { agentId, accountId, region, instanceId } = row
  return { kind: 'agent', clientId: row.clientId, verified: { agentId, accountId, region, instanceId } }
}

/**
 * The operator's reset: forgets every token of the agent, so its instances register again with a fresh
 * document (a lost state file). The agent stays verified: a client token still can't take its logical id.
 */
export function resetAgentTokens(db: Database, agentId: string) {
  return db.delete(agentTokens).where(eq(agentTokens.agentId, agentId))
}

/** Revokes the tokens of instances that ended more than REVOKE_AFTER_END_MS before `now`; answers how many. */
export async function revokeEndedInstanceTokens(db: Database, now: number): Promise<{ revoked: number }> {
  const ended = db
    .select({ one: sql`1` })
    .from(instances)
    .where(
      and(
        eq(instances.clientId, agentTokens.clientId),
        eq(instances.instanceId, agentTokens.instanceId),
        eq(instances.status, 'terminated'),
        lt(instances.terminatedAt, now - REVOKE_AFTER_END_MS),
      ),
    )
  const result = await db
    .update(agentTokens)
    .set({ revokedAt: now })
    .where(and(isNull(agentTokens.revokedAt), sql`exists ${ended}`))
  return { revoked: result.meta.changes }
}
