/**
 * Engine endpoints kept for compatibility (agent-api.md): `decide`, `switch-recommendation` and
 * `issue-switch-command`, answered by the real decision engine.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { chooseTarget, queueSwitch } from '../../flows/switch/command'
import { toMode } from './wire'
import { database } from '../../db/client'
import type { AgentRun } from '../../engine/run'
import { runContext, runForAgent } from '../../flows/engine-tick/run'
import { ApiError, orThrow } from '../../errors'
import { PRIORITY } from '../../protocol'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'

export const IssueSwitchBody = z.object({
  target_mode: z
    .string()
    .max(32)
    .transform((v) => toMode(v)),
  target_pool_id: z.string().trim().min(1).max(128).nullish(),
  reason: z.string().max(1000).nullish(),
  priority: z.number().int().min(0).max(100).nullish(),
})

export const engineRoutes = routeGroup<AgentRouteEnv>(AGENT_API)

/** The wire shape of a run's decision. */
function answer(run: AgentRun, version: number) {
  const d = run.decision
  if (!d) {
    return {
      decision: 'stay',
      should_switch: false,
      target_mode: null,
      target_pool_id: null,
      expected_savings_per_hour: 0,
      risk: 0,
      confidence: 0,
      urgent: false,
      reason_code: null,
      reasons: ["the agent's placement or the on-demand price is not known yet"],
      blocked_by: ['unknown_placement'],
      params_version: version,
      decision_id: null,
    }
  }
  return {
    decision: d.decision,
    should_switch: d.decision !== 'stay',
    target_mode: d.target?.mode ?? null,
    target_pool_id: d.target?.poolId ?? null,
    expected_savings_per_hour: d.expected_savings_per_hour,
    risk: d.risk,
    confidence: d.confidence,
    urgent: d.urgent,
    reason_code: d.reason_code,
    reasons: d.reasons,
    blocked_by: d.blocked_by,
    params_version: version,
    decision_id: run.decisionId,
  }
}

engineRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/decide',
    summary: 'Run the decision engine for this agent and store the decision',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const ctx = await runContext(db)
    const run = await runForAgent(c.env, db, c.get('agent'), ctx, clock.now(), { store: true, act: false })
    return c.json(answer(run, ctx.active.version))
  },
)

engineRoutes.openapi(
  createRoute({
    method: 'get',
    middleware: OWN_AGENT,
    path: '/{agentId}/switch-recommendation',
    summary: "The engine's current recommendation",
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const ctx = await runContext(db)
    const run = await runForAgent(c.env, db, c.get('agent'), ctx, clock.now(), { store: false, act: false })
    return c.json(answer(run, ctx.active.version))
  },
)

engineRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/issue-switch-command',
    summary: 'Queue a switch (403 when auto-switch is off)',
    request: { body: jsonBody(IssueSwitchBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    if (!agent.autoSwitchEnabled)
      throw new ApiError('FORBIDDEN', 'auto-switch is off for this agent', { success: false })
    if (body.target_mode === 'unknown') {
      throw new ApiError('VALIDATION', 'invalid body: target_mode', {
        fields: [{ field: 'target_mode', message: 'expected spot or ondemand' }],
      })
    }
    const db = database(c.env.DB)
    const now = clock.now()
    const instance = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
    if (!instance) throw new ApiError('CONFLICT', 'the agent has no instance yet', { success: false })
    const poolId = body.target_pool_id ?? null
    const target = body.target_mode === 'ondemand' ? 'ondemand' : poolId ? 'pool' : 'spot'
    const choice = orThrow(await chooseTarget(db, agent, instance, { target, poolId }, now))
    if (choice.kind === 'already') return c.json({ success: false, message: choice.message })
    const result = await queueSwitch(c.env, agent, instance, choice.target, {
      priority: body.priority ?? PRIORITY.engine,
      source: 'engine',
    })
    if (!result.ok && result.reason === 'duplicate') {
      return c.json({
        success: false,
        message: 'a switch of this instance is already pending',
        command_id: result.commandId,
      })
    }
    if (!result.ok) throw new ApiError('CONFLICT', result.message, { success: false })
    return c.json(
      {
        success: true,
        command_id: result.commandId,
        target_mode: choice.target.mode,
        target_pool_id: choice.target.poolId,
        reason: body.reason ?? null,
        ...(choice.note && { note: choice.note }),
      },
      201,
    )
  },
)
