/**
 * A stateful agent's workload as people read it: GET volumes (data volumes, managed interface, the
 * newest snapshot's age against the RPO) and GET snapshots (the rolling snapshots, paged).
 */
import { createRoute } from '@hono/zod-openapi'
import * as z from 'zod'
import { clientScopeOf, requirePerson } from '../../auth/middleware'
import { clock } from '../../clock'
import { database } from '../../db/client'
import { agentInScope } from '../../db/queries/agents'
import { snapshotFreshness, snapshotsOf, workloadOf } from '../../db/queries/workload'
import type { AppEnv } from '../../env'
import { found } from '../../errors'
import { answers, CLIENT_API, routeGroup } from '../group'

export const SnapshotsQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const clientWorkload = routeGroup<AppEnv>(CLIENT_API)

clientWorkload.openapi(
  createRoute({
    method: 'get',
    path: '/agents/{agentId}/volumes',
    summary: "The stateful agent's data volumes, managed interface and newest snapshot against its RPO",
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const agent = found(
      await agentInScope(db, clientScopeOf(requirePerson(c)), c.req.param('agentId')),
      'agent not found',
    )
    const workload = await workloadOf(db, { clientId: agent.clientId, agentId: agent.id })
    return c.json({
      stateful: agent.stateful,
      rpoMinutes: agent.rpoMinutes,
      ...workload,
      ...snapshotFreshness(workload.newestSnapshot, agent.rpoMinutes, clock.now()),
    })
  },
)

clientWorkload.openapi(
  createRoute({
    method: 'get',
    path: '/agents/{agentId}/snapshots',
    summary: "The stateful agent's rolling snapshots, newest first (bare array, X-Total-Count)",
    request: { query: SnapshotsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const agent = found(
      await agentInScope(db, clientScopeOf(requirePerson(c)), c.req.param('agentId')),
      'agent not found',
    )
    const page = await snapshotsOf(db, { clientId: agent.clientId, agentId: agent.id }, c.req.valid('query'))
    c.header('X-Total-Count', String(page.total))
    return c.json(page.items)
  },
)
