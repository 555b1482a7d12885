/**
 * Admin views across every client: stats, agents, instances, activity, audit log, system health; and
 * the reset of an agent's identity (its agent tokens).
 */
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, routeGroup } from '../group'
import * as z from 'zod'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { AuditQuery, listActivity, listAudit } from '../../db/queries/activity'
import { AgentListQuery, listAgents } from '../../db/queries/agents'
import { systemHealth } from '../../db/queries/health'
import { InstanceListQuery, listInstances } from '../../db/queries/instances'
import { fleetTotals } from '../../db/queries/overview'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'
import { eq } from 'drizzle-orm'
import { resetAgentTokens } from '../../auth/agent-tokens'
import { auditEntry } from '../../db/audit'
import { agents } from '../../db/schema'
import { ApiError } from '../../errors'
import { forgetAgentTokens } from '../../flows/credentials'

export const ActivityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Epoch ms: items strictly older (the next page). */
  before: z.coerce.number().int().positive().optional(),
  client_id: z.string().max(64).optional(),
})

export const adminFleet = routeGroup<AppEnv>(ADMIN_API)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/stats',
    summary: 'Fleet totals, savings summed once per client, spot coverage',
    responses: answers('OK'),
  }),
  async (c) => {
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
  },
)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/agents',
    summary: 'All agents',
    request: { query: AgentListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const page = await listAgents(database(c.env.DB), livenessFrom(c.env), null, c.req.valid('query'))
    return c.json({ agents: page.items, total: page.total, page: page.page, limit: page.limit })
  },
)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/instances',
    summary: 'All instances',
    request: { query: InstanceListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const page = await listInstances(database(c.env.DB), livenessFrom(c.env), null, c.req.valid('query'))
    return c.json({ instances: page.items, total: page.total, page: page.page, limit: page.limit })
  },
)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/activity',
    summary: 'Notifications and audit entries, newest first',
    request: { query: ActivityQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const q = c.req.valid('query')
    const page = await listActivity(
      database(c.env.DB),
      q.client_id ?? null,
      q.limit,
      q.before ?? clock.now() + 1,
    )
    return c.json(page.items)
  },
)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/audit',
    summary: 'Audit log',
    request: { query: AuditQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    return c.json(await listAudit(database(c.env.DB), null, c.req.valid('query')))
  },
)

adminFleet.openapi(
  createRoute({
    method: 'get',
    path: '/system-health',
    summary: 'Database round trip, cron freshness, engine version, agent versions',
    responses: answers('OK'),
  }),
  async (c) => {
    return c.json(await systemHealth(database(c.env.DB), c.env.DB, clock.now()))
  },
)

adminFleet.openapi(
  createRoute({
    method: 'post',
    path: '/agents/{agentId}/reset-identity',
    summary:
      'Forget every agent token of an agent: its instances register again with their documents (a lost state file)',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const [agent] = await db
      .select()
      .from(agents)
      .where(eq(agents.id, c.req.param('agentId')))
      .limit(1)
    if (!agent) throw new ApiError('NOT_FOUND', 'agent not found')
    await db.batch([
      resetAgentTokens(db, agent.id),
      auditEntry(c, db, {
        action: 'agent.reset_identity',
        clientId: agent.clientId,
        targetType: 'agent',
        targetId: agent.id,
      }),
    ])
    await forgetAgentTokens(c.env, agent.id)
    return c.json({ success: true })
  },
)
