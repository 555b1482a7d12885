/**
 * Interruption signals: termination-imminent (fail over now), rebalance-recommendation, the emergency
 * replica the 4.0.0 agent asks for first, and termination (the instance is gone).
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { recordRebalance, recordTermination } from '../../flows/signals'
import { fact, instanceIdField, timeField } from './wire'
import { database } from '../../db/client'
import { followFailover } from '../../flows/failover/standby'
import { ApiError, orThrow } from '../../errors'
import { tellReplicaLaunch } from '../../flows/replicas/commands'
import { emergencyReplicaFor } from '../../flows/replicas/emergency'
import { failOver } from '../../flows/replicas/failover'
import { stepsOf } from '../../flows/switch/stateful'
import { recordNoticeDrain, rejoinReplacement } from '../../flows/replicas/notice-drain'
import { SwitchStep } from '../../protocol'
import { placeholderInstanceId, poolView } from '../../flows/replicas/view'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'
import { feedsOtherTenants } from '../../auth/principal'

export const TerminationImminentBody = z.object({
  instance_id: instanceIdField,
  termination_time: timeField,
  detected_at: timeField,
  replica_id: fact,
  /** A stateful agent's drain steps, when it drained before the instance dies (its switch report follows). */
  drain_steps: z.array(SwitchStep).max(32).nullish(),
})

/** A stateful agent's drain on a notice, once it ended (the steps, the groups it left, who joined them). */
export const InterruptionDrainBody = z.object({
  instance_id: instanceIdField,
  termination_time: timeField,
  steps: z.array(SwitchStep).max(32),
  target_groups: z
    .array(
      z.object({ target_group_arn: z.string().min(1).max(512), port: z.number().int().min(1).max(65535) }),
    )
    .max(32),
  registered_instance_id: instanceIdField.nullish(),
})

export const RebalanceBody = z.object({ instance_id: instanceIdField, detected_at: timeField })

export const EmergencyReplicaBody = z.object({
  signal_type: z.enum(['rebalance-recommendation', 'termination-notice']),
  instance_id: instanceIdField,
  termination_time: timeField,
  preferred_zones: z.array(z.string().max(64)).max(50).nullish(),
  exclude_zones: z.array(z.string().max(64)).max(50).nullish(),
})

export const TerminationBody = z.object({ reason: z.string().max(1000).nullish(), instance_id: fact })

export const signals = routeGroup<AgentRouteEnv>(AGENT_API)

signals.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/termination-imminent',
    summary: 'Two-minute notice: promote the best replica',
    request: { body: jsonBody(TerminationImminentBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const db = database(c.env.DB)
    const outcome = await failOver(
      c.env,
      db,
      agent,
      {
        instanceId: body.instance_id,
        terminationTime: body.termination_time,
        detectedAt: body.detected_at,
        replicaId: body.replica_id,
        shared: feedsOtherTenants(c.get('principal')),
        drainSteps: body.drain_steps ? stepsOf(body.drain_steps) : null,
      },
      clock.now(),
    )
    if (outcome.kind === 'no_replica') {
      throw new ApiError('CONFLICT', 'No replica available', {
        success: false,
        action: 'emergency_snapshot_required',
      })
    }
    if (outcome.fresh) {
      c.executionCtx.waitUntil(followFailover(c.env, db, agent.clientId, agent.id, clock.now()))
    }
    return c.json({
      success: true,
      message: `replica ${outcome.replicaId} promoted to primary`,
      new_instance_id: outcome.newInstanceId,
      replica_id: outcome.replicaId,
      failover_time_ms: outcome.failoverMs,
      action: 'replica_promoted',
    })
  },
)

signals.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/interruption-drain',
    summary: "A notice's drain once it ended: shown with the interruption's switch",
    request: { body: jsonBody(InterruptionDrainBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const recorded = await recordNoticeDrain(db, c.get('agent'), {
      instanceId: body.instance_id,
      terminationTime: body.termination_time,
      steps: stepsOf(body.steps),
      targetGroups: body.target_groups.map((g) => ({ targetGroupArn: g.target_group_arn, port: g.port })),
      registeredInstanceId: body.registered_instance_id ?? null,
    })
    await rejoinReplacement(c.env, db, c.get('agent'), body.instance_id)
    return c.json({ success: true, notice: recorded.notice, switch_id: recorded.switchId })
  },
)

signals.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/rebalance-recommendation',
    summary: 'Rebalance signal: a risk signal of the pool',
    request: { body: jsonBody(RebalanceBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const answer = await recordRebalance(
      database(c.env.DB),
      c.get('agent'),
      {
        instanceId: body.instance_id,
        detectedAt: body.detected_at,
        shared: feedsOtherTenants(c.get('principal')),
      },
      clock.now(),
    )
    const target = answer.targetPoolId ? { target_mode: 'spot', target_pool_id: answer.targetPoolId } : {}
    return c.json({
      success: true,
      action: answer.action,
      risk_score: answer.riskScore,
      reason: answer.reason,
      ...target,
    })
  },
)

signals.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/create-emergency-replica',
    summary: 'Emergency replica in the safest cheap pool (idempotent per signal)',
    request: { body: jsonBody(EmergencyReplicaBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const isTermination = body.signal_type === 'termination-notice'
    const { replica, created } = orThrow(
      await emergencyReplicaFor(
        database(c.env.DB),
        agent,
        isTermination
          ? { kind: 'termination', instanceId: body.instance_id, terminationTime: body.termination_time }
          : { kind: 'rebalance', instanceId: body.instance_id },
        { preferredZones: body.preferred_zones ?? undefined, excludeZones: body.exclude_zones ?? undefined },
        clock.now(),
      ),
    )
    if (created) await tellReplicaLaunch(c.env, agent, replica)
    const instanceId = replica.instanceId ?? placeholderInstanceId(replica)
    return c.json(
      {
        success: true,
        replica_id: replica.id,
        instance_id: instanceId,
        replica_instance_id: instanceId,
        status: replica.status,
        // What to launch: `ondemand` when no spot pool fits (the 5.x agent launches that mode).
        mode: replica.mode,
        pool: { id: replica.poolId, name: poolView(replica).name, az: replica.az },
        hourly_cost: replica.hourlyCost,
        urgency: isTermination ? 'critical' : 'high',
        created,
      },
      created ? 201 : 200,
    )
  },
)

signals.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/termination',
    summary: 'The instance is gone',
    request: { body: jsonBody(TerminationBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const instanceId = body.instance_id ?? agent.instanceId
    if (!instanceId)
      throw new ApiError('VALIDATION', 'instance_id required: the agent has no instance', {
        fields: [{ field: 'instance_id', message: 'required' }],
      })
    const result = await recordTermination(
      database(c.env.DB),
      agent,
      { instanceId, reason: body.reason ?? null, shared: feedsOtherTenants(c.get('principal')) },
      clock.now(),
    )
    return c.json({ success: true, instance_id: instanceId, changed: result.changed })
  },
)
