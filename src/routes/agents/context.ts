/** Per-agent routes: the authenticated client's agent named by `:agentId`, loaded once for every route. */
import { createMiddleware } from 'hono/factory'
import { findAgent } from '../../agents/lookup'
import { database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { Env, Vars } from '../../env'
import { ApiError } from '../../errors'

export type AgentRouteEnv = { Bindings: Env; Variables: Vars & { agent: Agent } }

/** After `agentAuth`: sets `agent`, or 404 for an unknown agent and for another client's agent alike. */
export const ownAgent = createMiddleware<AgentRouteEnv>(async (c, next) => {
  const principal = c.get('principal')
  if (principal.kind !== 'agent') throw new ApiError('UNAUTHORIZED', 'client token required')
  c.set('agent', await findAgent(database(c.env.DB), principal.clientId, c.req.param('agentId') ?? ''))
  await next()
})
