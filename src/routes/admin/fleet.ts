/** Admin views across every client: stats, agents, instances, activity, audit log, system health. */
import { Hono } from 'hono'
import * as z from 'zod'
import { operatorAuth } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from '../../validate'
import { AuditQuery, listActivity, listAudit } from '../../db/queries/activity'
import { AgentListQuery, listAgents } from '../../db/queries/agents'
import { systemHealth } from '../../db/queries/health'
import { InstanceListQuery, listInstances } from '../../db/queries/instances'
import { fleetTotals } from '../../db/queries/overview'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'

export const ActivityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Epoch ms: items strictly older (the next page). */
  before: z.coerce.number().int().positive().optional(),
  client_id: z.string().max(64).optional(),
})

export const adminFleet = new Hono<AppEnv>()
adminFleet.use(operatorAuth)

adminFleet.get('/stats', async (c) => {
  const t = await fleetTotals(database(c.env.DB), null, clock.now())
  return c.json({
    totalAccounts: t.clients,
    agentsOnline: t.agentsOnline,
    agentsTotal: t.agentsTotal,
    poolsCovered: t.poolsCovered,
    totalSavings: t.savings.lifetime,
    totalSwitches: t.totalSwitches,
    manualSwitches: t.manualSwitches,
    modelSwitches: t.modelSwitches,
    interruptionSwitches: t.interruptionSwitches,
    spotCoverage: t.spotCoverage,
    instancesSpot: t.instancesSpot,
    instancesOnDemand: t.instancesOnDemand,
    savings: t.savings,
  })
})

adminFleet.get('/agents', async (c) => {
  const page = await listAgents(database(c.env.DB), livenessFrom(c.env), null, readQuery(c, AgentListQuery))
  return c.json({ agents: page.items, total: page.total, page: page.page, limit: page.limit })
})

adminFleet.get('/instances', async (c) => {
  const page = await listInstances(
    database(c.env.DB),
    livenessFrom(c.env),
    null,
    readQuery(c, InstanceListQuery),
  )
  return c.json({ instances: page.items, total: page.total, page: page.page, limit: page.limit })
})

adminFleet.get('/activity', async (c) => {
  const q = readQuery(c, ActivityQuery)
  const page = await listActivity(
    database(c.env.DB),
    q.client_id ?? null,
    q.limit,
    q.before ?? clock.now() + 1,
  )
  return c.json(page.items)
})

adminFleet.get('/audit', async (c) => {
  return c.json(await listAudit(database(c.env.DB), null, readQuery(c, AuditQuery)))
})

adminFleet.get('/system-health', async (c) => {
  return c.json(await systemHealth(database(c.env.DB), c.env.DB, clock.now()))
})
