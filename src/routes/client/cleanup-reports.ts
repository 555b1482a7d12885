/** GET /api/client/agents/:agentId/cleanup-reports: what the agent's hourly cleanup deleted and what failed. */
import { createRoute } from '@hono/zod-openapi'
import * as z from 'zod'
import { clientScopeOf, requirePerson } from '../../auth/middleware'
import { database } from '../../db/client'
import { agentInScope } from '../../db/queries/agents'
import { cleanupReportsOf } from '../../db/queries/cleanup-reports'
import type { AppEnv } from '../../env'
import { found } from '../../errors'
import { answers, CLIENT_API, routeGroup } from '../group'

export const CleanupReportsQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const clientCleanupReports = routeGroup<AppEnv>(CLIENT_API)

clientCleanupReports.openapi(
  createRoute({
    method: 'get',
    path: '/agents/{agentId}/cleanup-reports',
    summary: "The agent's cleanup reports, newest first (bare array, X-Total-Count)",
    request: { query: CleanupReportsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const scope = clientScopeOf(requirePerson(c))
    const agent = found(await agentInScope(db, scope, c.req.param('agentId')), 'agent not found')
    const page = await cleanupReportsOf(
      db,
      { clientId: agent.clientId, agentId: agent.id },
      c.req.valid('query'),
    )
    c.header('X-Total-Count', String(page.total))
    return c.json(page.items)
  },
)
