/** GET /api/agents/:agentId/config and GET .../replica-config: the settings an agent runs with. */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, routeGroup } from '../group'
import { configFor } from '../../db/queries/agent-config'
import { database } from '../../db/client'
import { pricingRoleOf } from '../../flows/pricing-reporters'
import { clock } from '../../clock'
import { OWN_AGENT, type AgentRouteEnv } from './context'

export const config = routeGroup<AgentRouteEnv>(AGENT_API)

config.openapi(
  createRoute({
    method: 'get',
    middleware: OWN_AGENT,
    path: '/{agentId}/config',
    summary: 'Effective settings (thresholds inherited from the active engine parameters)',
    responses: answers('OK'),
  }),
  async (c) => {
    const [db, agent] = [database(c.env.DB), c.get('agent')]
    return c.json({ ...(await configFor(db, agent)), ...(await pricingRoleOf(db, agent, clock.now())) })
  },
)

config.openapi(
  createRoute({
    method: 'get',
    middleware: OWN_AGENT,
    path: '/{agentId}/replica-config',
    summary: 'Standby replica settings',
    responses: answers('OK'),
  }),
  (c) => {
    const agent = c.get('agent')
    return c.json({ enabled: agent.manualReplicaEnabled, count: agent.replicaCount })
  },
)
