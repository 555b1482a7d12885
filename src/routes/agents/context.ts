/** Per-agent routes: the authenticated client's agent named by `:agentId`, loaded once for every route. */
import { createMiddleware } from 'hono/factory'
import { agentAuth } from '../../auth/middleware'
import { findAgent } from '../../db/queries/agent'
import { database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { Env, Vars } from '../../env'
import { ApiError, found } from '../../errors'

export type AgentRouteEnv = { Bindings: Env; Variables: Vars & { agent: Agent } }

/** After `agentAuth`: sets `agent`, or 404 for an unknown, another client's or a deleted agent alike. */
export const ownAgent = agentOfClient({ includeDeleted: false })

/**
 * The same for the command routes, where a deleted agent is still found: its Durable Object serves it
 * its `uninstall` command only, and answers any other command like an unknown one.
 */
export const ownAgentOrDeleted = agentOfClient({ includeDeleted: true })

function agentOfClient(options: { includeDeleted: boolean }) {
  return createMiddleware<AgentRouteEnv>(async (c, next) => {
    const principal = c.get('principal')
    if (principal.kind !== 'agent') throw new ApiError('UNAUTHORIZED', 'client token required')
    const agentId = c.req.param('agentId') ?? ''
    c.set(
      'agent',
      found(await findAgent(database(c.env.DB), principal.clientId, agentId, options), 'agent not found'),
    )
    await next()
  })
}

/** The middleware of a per-agent route: the client token, then the client's own agent. */
export const OWN_AGENT = [agentAuth, ownAgent]

/** The same for the command routes, which a deleted agent still reaches (for its `uninstall`). */
export const OWN_AGENT_OR_DELETED = [agentAuth, ownAgentOrDeleted]
