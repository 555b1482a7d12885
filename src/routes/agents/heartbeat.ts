/** POST /api/agents/:agentId/heartbeat: absorbed by the agent's Durable Object (liveness lives there). */
import { Hono } from 'hono'
import * as z from 'zod'
import { fact, instanceIdField, toMode } from '../../agents/wire'
import { ApiError } from '../../errors'
import { sessionOf } from '../../session/agent-session'
import { readJson } from '../../validate'
import type { AgentRouteEnv } from './context'

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

export const heartbeat = new Hono<AgentRouteEnv>()

heartbeat.post('/heartbeat', async (c) => {
  const body = await readJson(c, HeartbeatBody)
  const agent = c.get('agent')
  const result = await sessionOf(c.env, agent.id).heartbeat({
    clientId: agent.clientId,
    agentId: agent.id,
    status: body.status,
    instanceId: body.instance_id ?? null,
    instanceType: body.instance_type,
    mode: body.mode === 'unknown' ? null : body.mode,
    az: body.az,
  })
  if (!result.ok) throw new ApiError('NOT_FOUND', 'agent not found')
  return c.json({ success: true })
})
