/**
 * Client growth for the admin console: `[{date,total,new,active}]` from the daily snapshots only.
 * Composed ahead of `/clients/{clientId}` (admin/index.ts), which would otherwise take "growth".
 */
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, routeGroup } from '../group'
import * as z from 'zod'
import { clientGrowth } from '../../db/queries/client-growth'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { clock } from '../../clock'

export const GrowthQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
})

export const adminGrowth = routeGroup<AppEnv>(ADMIN_API)

adminGrowth.openapi(
  createRoute({
    method: 'get',
    path: '/clients/growth',
    summary: 'Client growth [{date,total,new,active}] from daily snapshots only (days absent without one)',
    request: { query: GrowthQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const { days } = c.req.valid('query')
    return c.json(await clientGrowth(database(c.env.DB), days, clock.now()))
  },
)
