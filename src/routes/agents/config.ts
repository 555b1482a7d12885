/** GET /api/agents/:agentId/config and GET .../replica-config: the settings an agent runs with. */
import { Hono } from 'hono'
import { configFor } from '../../db/queries/agent-config'
import { database } from '../../db/client'
import type { AgentRouteEnv } from './context'

export const config = new Hono<AgentRouteEnv>()

config.get('/config', async (c) => c.json(await configFor(database(c.env.DB), c.get('agent'))))

config.get('/replica-config', (c) => {
  const agent = c.get('agent')
  return c.json({ enabled: agent.manualReplicaEnabled, count: agent.replicaCount })
})
