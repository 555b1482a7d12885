/**
 * GET /api/agents/:agentId/stream: the new agent's push socket (bearer token, `?instance_id=`),
 * accepted by the agent's Durable Object with the hibernation API.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, routeGroup } from '../group'
import { createMiddleware } from 'hono/factory'
import * as z from 'zod'
import { instanceIdField } from './wire'
import { ApiError } from '../../errors'
import { sessionOf } from '../../session/stub'
import { SOCKET_HEADERS } from '../../session/socket'
import { actingInstance, OWN_AGENT_OR_DELETED, type AgentRouteEnv } from './context'

const StreamQuery = z.object({ instance_id: instanceIdField })

export const stream = routeGroup<AgentRouteEnv>(AGENT_API)

/** Ahead of the query's validation: a plain GET gets a 400 that says what is wrong with it. */
const webSocketOnly = createMiddleware(async (c, next) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('BAD_REQUEST', 'expected a WebSocket upgrade')
  }
  await next()
})

stream.openapi(
  createRoute({
    method: 'get',
    middleware: [...OWN_AGENT_OR_DELETED, webSocketOnly],
    path: '/{agentId}/stream',
    summary: 'WebSocket push channel (commands, config_changed)',
    request: { query: StreamQuery },
    responses: { ...answers('Switching protocols'), 101: { description: 'The WebSocket' } },
  }),
  async (c) => {
    const { instance_id } = c.req.valid('query')
    const agent = c.get('agent')
    const headers = new Headers({ Upgrade: 'websocket' })
    headers.set(SOCKET_HEADERS.clientId, agent.clientId)
    headers.set(SOCKET_HEADERS.agentId, agent.id)
    headers.set(SOCKET_HEADERS.instanceId, actingInstance(c.get('principal'), instance_id))
    if (agent.agentVersion) headers.set(SOCKET_HEADERS.agentVersion, agent.agentVersion)
    const response = await sessionOf(c.env, agent.id).fetch('https://session/stream', { headers })
    if (response.status === 404) throw new ApiError('NOT_FOUND', 'agent not found')
    return response
  },
)
