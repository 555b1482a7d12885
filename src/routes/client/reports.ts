/** People-facing read routes of a client: its row, overview, switch history, decisions, charts, replicas, commands. */
import { and, eq, gte, isNull, sql } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, routeGroup } from '../group'
import * as z from 'zod'
import { clientScopeOf, requirePerson, scopeClient } from '../../auth/middleware'
import { database } from '../../db/client'
import { commands, savingsDaily, switches } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { utcDay } from '../../ledger/rollup'
import { clientRow } from '../../db/queries/clients'
import { clientReplicas, decisionTimeline, switchHistory } from '../../db/queries/history'
import { fleetTotals } from '../../db/queries/overview'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'

export const SwitchHistoryQuery = z.object({
  instance_id: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})
export const DecisionsQuery = z.object({
  agent_id: z.string().max(64).optional(),
  days: z.coerce.number().int().min(1).max(30).default(7),
  shadow: z.stringbool().default(false),
})

export const clientReports = routeGroup<AppEnv>(CLIENT_API)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/commands/{commandId}',
    summary:
      "A command's state: queued \u2192 delivered \u2192 acked \u2192 running \u2192 completed | failed",
    responses: answers('OK'),
  }),
  async (c) => {
    const scope = clientScopeOf(requirePerson(c))
    const [cmd] = await database(c.env.DB)
      .select()
      .from(commands)
      .where(
        and(
          eq(commands.id, c.req.param('commandId')),
          scope === null ? undefined : eq(commands.clientId, scope),
        ),
      )
      .limit(1)
    if (!cmd) throw new ApiError('NOT_FOUND', 'command not found')
    return c.json({
      id: cmd.id,
      agentId: cmd.agentId,
      commandType: cmd.commandType,
      targetMode: cmd.targetMode,
      targetPoolId: cmd.targetPoolId,
      status: cmd.status,
      message: cmd.message,
      createdAt: cmd.createdAt,
      deliveredAt: cmd.deliveredAt,
      ackedAt: cmd.ackedAt,
      startedAt: cmd.startedAt,
      finishedAt: cmd.finishedAt,
    })
  },
)

clientReports.openapi(
  createRoute({ method: 'get', path: '/{clientId}', summary: 'The client row', responses: answers('OK') }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const row = await clientRow(database(c.env.DB), livenessFrom(c.env), clientId, clock.now())
    if (!row) throw new ApiError('NOT_FOUND', 'client not found')
    return c.json(row)
  },
)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/overview',
    summary: 'Fleet totals and savings of the client',
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    return c.json(await fleetTotals(database(c.env.DB), clientId, clock.now()))
  },
)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/switch-history',
    summary: 'Switches with downtime',
    request: { query: SwitchHistoryQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const rows = await switchHistory(database(c.env.DB), clientId, {
      instanceId: q.instance_id,
      limit: q.limit,
      offset: (q.page - 1) * q.limit,
    })
    return c.json(rows)
  },
)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/decisions',
    summary: 'Engine decisions with reasons and blocks',
    request: { query: DecisionsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const rows = await decisionTimeline(database(c.env.DB), clientId, {
      agentIds: q.agent_id ? [q.agent_id] : undefined,
      from: clock.now() - q.days * 86_400_000,
      limit: 500,
      includeShadow: q.shadow,
    })
    return c.json(rows)
  },
)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/replicas',
    summary: 'Replicas with sync and cost',
    request: { query: z.object({ include_terminated: z.string().optional() }) },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const all = c.req.valid('query').include_terminated === 'true'
    const rows = await clientReplicas(database(c.env.DB), clientId, all)
    return c.json(
      rows.map((r) => ({
        agentId: r.agentId,
        primary: { instanceId: r.parentInstanceId },
        replica: {
          id: r.id,
          instanceId: r.instanceId,
          type: r.replicaType,
          mode: r.mode,
          status: r.status,
          errorMessage: r.errorMessage,
          sync_status: r.syncStatus,
          syncLatencyMs: r.syncLatencyMs,
          pool: r.poolId,
          az: r.az,
          cost: { hourly: r.hourlyCost, total: r.totalCost },
          createdAt: r.createdAt,
          readyAt: r.readyAt,
        },
      })),
    )
  },
)

clientReports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/stats/charts',
    summary: 'Savings trend, mode distribution, switches per day (30 days)',
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const db = database(c.env.DB)
    const days = 30
    const since = clock.now() - (days - 1) * 86_400_000
    const [saved, modes, perDay] = await Promise.all([
      db
        .select({ day: savingsDaily.day, savings: sql<number>`sum(${savingsDaily.savings})` })
        .from(savingsDaily)
        .where(and(eq(savingsDaily.clientId, clientId), gte(savingsDaily.day, utcDay(since))))
        .groupBy(savingsDaily.day),
      fleetTotals(db, clientId, clock.now()),
      db
        .select({
          day: sql<string>`date(${switches.receivedAt} / 1000, 'unixepoch')`,
          n: sql<number>`count(*)`,
        })
        .from(switches)
        .where(
          and(eq(switches.clientId, clientId), gte(switches.receivedAt, since), isNull(switches.undoneAt)),
        )
        .groupBy(sql`1`),
    ])
    const daysList = Array.from({ length: days }, (_, i) => utcDay(since + i * 86_400_000))
    const savedBy = new Map(saved.map((r) => [r.day, r.savings]))
    const switchesBy = new Map(perDay.map((r) => [r.day, r.n]))
    return c.json({
      // Days the ledger has not rolled up are null, not zero: no number is invented.
      savingsTrend: daysList.map((day) => ({ date: day, savings: savedBy.get(day) ?? null })),
      modeDistribution: [
        { mode: 'spot', count: modes.instancesSpot },
        { mode: 'ondemand', count: modes.instancesOnDemand },
      ],
      switchFrequency: daysList.map((day) => ({ date: day, switches: switchesBy.get(day) ?? 0 })),
    })
  },
)
