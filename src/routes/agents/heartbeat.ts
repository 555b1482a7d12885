/**
 * POST /api/agents/:agentId/heartbeat: absorbed by the agent's Durable Object (liveness lives there).
 * The object knows its owner, so the tenant check needs D1 only until it does: an agent token's
 * heartbeat does not load the agent from D1 first; a client token's does, to refuse it for a verified agent.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { findAgent } from '../../db/queries/agent'
import { fact, instanceIdField, toMode } from './wire'
import { agentAuth } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { ApiError, found } from '../../errors'
import { sessionOf } from '../../session/stub'
import { actingInstance, agentPrincipal, mayActFor } from './context'
import type { HeartbeatInput } from '../../session/types'

export const HeartbeatBody = z.object({
  /** `offline` is sent once, at shutdown. */
  status: z.enum(['online', 'disabled', 'offline']),
  monitored_instances: z.array(z.string().max(64)).max(1000).nullish(),
  /** Null or missing facts keep the old value. */
  instance_id: instanceIdField.nullish(),
  instance_type: fact,
  mode: z
    .string()
    .max(64)
    .nullish()
    .transform((v) => (v == null ? null : toMode(v))),
  az: fact,
})

export const heartbeat = routeGroup<AppEnv>(AGENT_API)

heartbeat.openapi(
  createRoute({
    method: 'post',
    path: '/{agentId}/heartbeat',
    summary: 'Heartbeat; 120 s of silence is offline',
    middleware: [agentAuth],
    request: { body: jsonBody(HeartbeatBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const agentId = c.req.param('agentId') ?? ''
    const principal = agentPrincipal(c.get('principal'), agentId)
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    // An agent token proves its agent; a client token must not speak for a verified one (D1 says).
    const isChecked = !principal.verified
    if (isChecked)
      mayActFor(principal, found(await findAgent(db, principal.clientId, agentId), 'agent not found'))
    const session = sessionOf(c.env, agentId)
    const input: HeartbeatInput = {
      clientId: principal.clientId,
      agentId,
      status: body.status,
      instanceId: actingInstance(principal, body.instance_id ?? null),
      instanceType: body.instance_type,
      mode: body.mode === 'unknown' ? null : body.mode,
      az: body.az,
    }
    let result = await session.heartbeat(isChecked ? { ...input, verified: true } : input)
    if (!result.ok && result.reason === 'unverified') {
      found(await findAgent(db, principal.clientId, agentId), 'agent not found')
      result = await session.heartbeat({ ...input, verified: true })
    }
    if (!result.ok) throw new ApiError('NOT_FOUND', 'agent not found')
    return c.json({ success: true })
  },
)
