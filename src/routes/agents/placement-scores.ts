/**
 * POST /api/agents/:agentId/placement-scores (5.x agents): what the agent's GetSpotPlacementScores
 * request for the types it prices got: a score per AZ of its region, or why none (`denied`: the
 * instance profile lacks the permission; `limited`: the account's configurations for the day are used).
 * Each AZ's score becomes every priced type's pool there (flows/capacity.ts).
 */
import { createRoute } from '@hono/zod-openapi'
import * as z from 'zod'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import { database } from '../../db/client'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { PLACEMENT_SCORE_STATUSES } from '../../db/schema'
import { recordPlacementScores } from '../../flows/capacity'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/
const AZ = /^[a-z]{2}(-[a-z]+)+-\d+[a-z]+$/
/** Pools one report may write (types × AZs): D1 statements of one request. */
const MAX_POOLS = 200

export const PlacementScoresBody = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a region such as us-east-1'),
    instance_types: z
      .array(z.string().max(64).regex(INSTANCE_TYPE, 'expected an instance type'))
      .min(1)
      .max(20),
    status: z.enum(PLACEMENT_SCORE_STATUSES),
    /** EC2's message when the status is not `ok`. */
    message: z.string().max(1000).nullish(),
    scores: z
      .array(
        z.object({
          az: z.string().max(64).regex(AZ, 'expected an availability zone'),
          score: z.number().int().min(1).max(10),
        }),
      )
      .max(50)
      .default([]),
  })
  .refine((b) => b.status === 'ok' || b.scores.length === 0, {
    message: 'scores come only with status ok',
    path: ['scores'],
  })
  .refine((b) => b.instance_types.length * b.scores.length <= MAX_POOLS, {
    message: `at most ${MAX_POOLS} pools (instance types × AZs) per report`,
    path: ['scores'],
  })

export const placementScores = routeGroup<AgentRouteEnv>(AGENT_API)

placementScores.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/placement-scores',
    summary: "Spot placement scores of the agent's region per AZ for the types it prices, or why none",
    request: { body: jsonBody(PlacementScoresBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const db = database(c.env.DB)
    const known = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
    // The region the control plane knows the agent in wins: scores of another region are not its pools'.
    const region = known?.region ?? body.region
    const inRegion = body.scores.filter((s) => body.region === region && s.az.startsWith(region))
    const types = [...new Set(body.instance_types)]
    await recordPlacementScores(
      db,
      agent,
      {
        status: body.status,
        detail: body.message ?? null,
        scores: inRegion.flatMap((s) => types.map((t) => ({ poolId: `${t}.${s.az}`, score: s.score }))),
      },
      clock.now(),
    )
    return c.json({
      success: true,
      recorded_pools: inRegion.length * types.length,
      ignored_zones: body.scores.filter((s) => !inRegion.includes(s)).map((s) => s.az),
    })
  },
)
