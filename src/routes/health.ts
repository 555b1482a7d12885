/** GET /health: liveness of the Worker and its database (no auth). */
import { createRoute } from '@hono/zod-openapi'
import { clock } from '../clock'
import type { AppEnv } from '../env'
import { AGENT_API, answers, routeGroup, SECURITY } from './group'

export const health = routeGroup<AppEnv>(AGENT_API)

health.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    summary: 'Liveness of the Worker and its database',
    security: SECURITY.none,
    responses: { ...answers('Healthy'), 503: { description: 'The database is unreachable' } },
  }),
  async (c) => {
    const timestamp = new Date(clock.now()).toISOString()
    try {
      await c.env.DB.prepare('select 1').first()
      return c.json({ status: 'healthy', timestamp, database: 'connected' })
    } catch {
      return c.json({ status: 'unhealthy', timestamp, database: 'unreachable' }, 503)
    }
  },
)
