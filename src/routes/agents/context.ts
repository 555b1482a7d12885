/**
 * Per-agent routes: the authenticated client's agent named by `:agentId`, loaded once for every route,
 * in the same D1 round trip as the token (auth/agent-request.ts).
 */
import { createMiddleware } from 'hono/factory'
import { authenticateForAgent, type AgentRequest } from '../../auth/agent-request'
import { bearerToken } from '../../auth/middleware'
import type { Principal } from '../../auth/principal'
import { visibleAgent } from '../../db/queries/agent'
import { database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { Env, Vars } from '../../env'
import { ApiError, found } from '../../errors'
import { clock } from '../../clock'

export type AgentRouteEnv = {
  Bindings: Env
  /** `hasOpenCommand`: D1's copy of the agent's queue holds an open command (auth/agent-request.ts). */
  Variables: Vars & { agent: Agent; hasOpenCommand: boolean }
}

/**
 * The agent or client token (as `agentAuth`: sets `principal`), then `agent`, or 404 for an unknown,
 * another client's or a deleted agent alike.
 */
export const ownAgent = agentOfClient({ includeDeleted: false })

/**
 * The same for the command routes, where a deleted agent is still found: its Durable Object serves it
 * its `uninstall` command only, and answers any other command like an unknown one.
 */
export const ownAgentOrDeleted = agentOfClient({ includeDeleted: true })

function agentOfClient(options: { includeDeleted: boolean }) {
  return createMiddleware<AgentRouteEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('Authorization'))
    if (!token) throw new ApiError('UNAUTHORIZED', 'missing bearer token')
    const agentId = c.req.param('agentId') ?? ''
    const request = await authenticateForAgent(database(c.env.DB), token, agentId, clock.now())
    c.set('principal', request.principal)
    c.set('agent', ownAgentOf(request, agentId, options))
    c.set('hasOpenCommand', request.hasOpenCommand)
    await next()
  })
}

/**
 * The agent `agentId` of an authenticated request, if its token may speak for it: 404 for an unknown,
 * another client's, another agent token's or (unless `includeDeleted`) a deleted agent alike; 403 for a
 * client token of a verified agent.
 */
export function ownAgentOf(
  request: AgentRequest,
  agentId: string,
  options: { includeDeleted: boolean },
): Agent {
  agentPrincipal(request.principal, agentId)
  const own = found(visibleAgent(request.agent, options), 'agent not found')
  mayActFor(request.principal, own)
  return own
}

/**
 * The agent principal of a per-agent route for `agentId`: an agent token acts for its own agent only
 * (another one's id is answered like an unknown one, 404).
 */
export function agentPrincipal(principal: Principal, agentId: string): Extract<Principal, { kind: 'agent' }> {
  if (principal.kind !== 'agent') throw new ApiError('UNAUTHORIZED', 'client token required')
  if (principal.verified && principal.verified.agentId !== agentId)
    throw new ApiError('NOT_FOUND', 'agent not found')
  return principal
}

/** A verified agent's routes take only its agent token: the client token is refused (403). */
export function mayActFor(principal: Principal, agent: Pick<Agent, 'identity'>): void {
  if (agent.identity === 'verified' && !(principal.kind === 'agent' && principal.verified))
    throw new ApiError('FORBIDDEN', 'this agent registered with its instance identity: use its agent token', {
      action: 'agent_token_required',
    })
}

/**
 * The instance a request acts from: an agent token's own instance (naming another one is 403), else
 * what the request says (a client token proves nothing about it).
 */
export function actingInstance(principal: Principal, sent: string): string
export function actingInstance(principal: Principal, sent: string | null): string | null
export function actingInstance(principal: Principal, sent: string | null): string | null {
  if (principal.kind !== 'agent' || !principal.verified) return sent
  if (sent !== null && sent !== principal.verified.instanceId)
    throw new ApiError('FORBIDDEN', 'an agent token acts for its own instance only')
  return principal.verified.instanceId
}

/** The middleware of a per-agent route: the agent or client token, then the client's own agent. */
export const OWN_AGENT = [ownAgent]

/** The same for the command routes, which a deleted agent still reaches (for its `uninstall`). */
export const OWN_AGENT_OR_DELETED = [ownAgentOrDeleted]
