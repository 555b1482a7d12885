/** POST /api/agents/:agentId/cleanup-report: what the agent's hourly cleanup deleted and what failed. */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { timeField } from './wire'
import { database } from '../../db/client'
import { recordCleanupReport } from '../../flows/cleanup'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'

const ids = z.array(z.string().max(128)).max(5000).nullish()
const failures = z
  .array(
    z.union([
      z.object({ id: z.string().max(128).nullish(), error: z.string().max(4000).nullish() }),
      z.string().max(4000),
    ]),
  )
  .max(5000)
  .nullish()

export const CleanupReportBody = z.object({
  timestamp: timeField,
  snapshots: z
    .object({
      type: z.string().max(32).nullish(),
      deleted: ids,
      failed: failures,
      cutoff_date: timeField,
      error: z.string().max(4000).nullish(),
    })
    .nullish(),
  amis: z
    .object({
      type: z.string().max(32).nullish(),
      deleted_amis: ids,
      deleted_snapshots: ids,
      failed: failures,
      cutoff_date: timeField,
      error: z.string().max(4000).nullish(),
    })
    .nullish(),
})

export const cleanup = routeGroup<AgentRouteEnv>(AGENT_API)

cleanup.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/cleanup-report',
    summary: 'What the hourly cleanup deleted and what failed',
    request: { body: jsonBody(CleanupReportBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const errors = [body.snapshots?.error, body.amis?.error].filter((e): e is string => !!e)
    const id = await recordCleanupReport(
      database(c.env.DB),
      {
        clientId: agent.clientId,
        agentId: agent.id,
        reportedAt: body.timestamp,
        snapshotsDeleted:
          (body.snapshots?.deleted?.length ?? 0) + (body.amis?.deleted_snapshots?.length ?? 0),
        amisDeleted: body.amis?.deleted_amis?.length ?? 0,
        failures: (body.snapshots?.failed?.length ?? 0) + (body.amis?.failed?.length ?? 0),
        error: errors.length ? errors.join('; ') : null,
        // Stored as the agent sent it, before validation.
        body: await c.req.json(),
      },
      clock.now(),
    )
    return c.json({ success: true, report_id: id }, 201)
  },
)
