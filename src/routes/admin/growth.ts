/**
 * Client growth for the admin console: `[{date,total,new,active}]` from the daily snapshots only.
 * Mounted under /api/admin/clients ahead of the client routes, whose `/:id` would otherwise take "growth".
 */
import { Hono } from 'hono'
import * as z from 'zod'
import { operatorAuth } from '../../auth/middleware'
import { clientGrowth } from '../../db/queries/client-growth'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from '../../validate'
import { clock } from '../../clock'

export const GrowthQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
})

export const adminGrowth = new Hono<AppEnv>()

adminGrowth.get('/growth', operatorAuth, async (c) => {
  const { days } = readQuery(c, GrowthQuery)
  return c.json(await clientGrowth(database(c.env.DB), days, clock.now()))
})
