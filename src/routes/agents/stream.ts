/**
 * GET /api/agents/:agentId/stream: the new agent's push socket (bearer token, `?instance_id=`),
 * accepted by the agent's Durable Object with the hibernation API.
 */
import { Hono } from 'hono'
import * as z from 'zod'
import { instanceIdField } from './wire'
import { ApiError } from '../../errors'
import { sessionOf } from '../../session/stub'
import { SOCKET_HEADERS } from '../../session/socket'
import { readQuery } from '../../validate'
import type { AgentRouteEnv } from './context'

const StreamQuery = z.object({ instance_id: instanceIdField })

export const stream = new Hono<AgentRouteEnv>()

stream.get('/stream', async (c) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('BAD_REQUEST', 'expected a WebSocket upgrade')
  }
  const { instance_id } = readQuery(c, StreamQuery)
  const agent = c.get('agent')
  const headers = new Headers({ Upgrade: 'websocket' })
  headers.set(SOCKET_HEADERS.clientId, agent.clientId)
  headers.set(SOCKET_HEADERS.agentId, agent.id)
  headers.set(SOCKET_HEADERS.instanceId, instance_id)
  if (agent.agentVersion) headers.set(SOCKET_HEADERS.agentVersion, agent.agentVersion)
  const response = await sessionOf(c.env, agent.id).fetch('https://session/stream', { headers })
  if (response.status === 404) throw new ApiError('NOT_FOUND', 'agent not found')
  return response
})
