/**
 * Replicas of an agent: list, create, launch report, status, sync status, promote, address moved,
 * terminate.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import type { Context } from 'hono'
import * as z from 'zod'
import { recordPublicIp } from '../../flows/instances'
import { tellAgent, understands } from '../../flows/tell'
import { fact, flagField, instanceIdField, priceField, timeField } from './wire'
import { database } from '../../db/client'
import { REPLICA_STATUSES, type Agent } from '../../db/schema'
import { followFailover } from '../../flows/failover/standby'
import { followAgent } from '../../flows/ledger/follow'
import { ApiError, found, orThrow } from '../../errors'
import { endLateLaunch, endReplica } from '../../flows/replicas/end'
import { requestReplica } from '../../flows/replicas/manual'
import { promoteByPerson } from '../../flows/replicas/person-promotion'
import { recordPromotionMoment } from '../../flows/replicas/promotion-outcome'
import { followReplicaReport } from '../../flows/replicas/reported'
import type { ReplicaStatus } from '../../flows/replicas/states'
import { findReplica, listReplicas, moveReplica, recordSyncMetrics } from '../../flows/replicas/store'
import { placeholderInstanceId, poolView, replicaView, statusForAgent } from '../../flows/replicas/view'
import { PRIORITY } from '../../protocol'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'

const Status = z.enum(REPLICA_STATUSES)
/** What an agent may report: `terminating` is the control plane's decision, never a report. */
const Reported = Status.exclude(['terminating'])
const zones = z.array(z.string().max(64)).max(50).nullish()

export const ReplicaListQuery = z.object({
  status: Status.optional(),
  include_terminated: z.enum(['true', 'false', '1', '0']).optional(),
})

export const ReplicaCreateBody = z.object({
  pool_id: fact,
  exclude_zones: zones,
  max_hourly_cost: priceField,
  /** A real EC2 id: the agent launched it itself (never listed as `launching`). */
  instance_id: fact,
  replica_type: z.enum(['manual', 'emergency']).nullish(),
  parent_instance_id: fact,
  status: Reported.nullish(),
})

export const ReplicaInstanceBody = z.object({
  instance_id: instanceIdField,
  status: Reported.nullish(),
  /** What the agent launched (5.x); the record follows it, as the promotion's switch does. */
  mode: z.enum(['spot', 'ondemand']).nullish(),
})

export const ReplicaStatusBody = z.object({
  status: Reported,
  sync_started_at: timeField,
  sync_completed_at: timeField,
  error_message: z.string().max(4000).nullish(),
})

export const ReplicaSyncBody = z.object({
  sync_status: z.string().max(64).nullish(),
  sync_latency_ms: z.number().finite().min(0).max(1e9).nullish(),
  state_transfer_progress: z.number().finite().min(0).max(100).nullish(),
  status: Reported.nullish(),
})

export const ReplicaPromoteBody = z.object({ demote_old_primary: flagField })

export const ReplicaAddressBody = z.object({
  public_ip: z.string().min(1).max(64),
  allocation_id: fact,
  command_id: fact,
})

export const replicaRoutes = routeGroup<AgentRouteEnv>(AGENT_API)

/** The agent's replica the URL names (404 when it has none of that id), with the database it was read from. */
async function replicaOfUrl(c: Context<AgentRouteEnv>) {
  const db = database(c.env.DB)
  const agent = c.get('agent')
  const replica = found(await findReplica(db, agent, c.req.param('replicaId') ?? ''), 'replica not found')
  return { db, agent, replica }
}

/** After a stored report: what it sets off (a promotion, a replacement); the ledger follows a promotion. */
async function followReport(
  c: Context<AgentRouteEnv>,
  agent: Agent,
  replicaId: string,
  reported: ReplicaStatus,
  now: number,
) {
  const db = database(c.env.DB)
  const promoted = await followReplicaReport(c.env, db, agent, replicaId, reported, now)
  if (promoted) c.executionCtx.waitUntil(followFailover(c.env, db, agent.clientId, agent.id, clock.now()))
  return promoted
}

replicaRoutes.openapi(
  createRoute({
    method: 'get',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas',
    summary: 'Replicas of the agent',
    request: { query: ReplicaListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const q = c.req.valid('query')
    const agent = c.get('agent')
    const rows = await listReplicas(database(c.env.DB), agent, {
      status: q.status ?? null,
      includeTerminated: q.include_terminated === 'true' || q.include_terminated === '1',
    })
    const now = clock.now()
    return c.json({ replicas: rows.map((r) => replicaView(r, now, agent.agentVersion)), total: rows.length })
  },
)

replicaRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas',
    summary: 'Manual replica',
    request: { body: jsonBody(ReplicaCreateBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { replica, created } = orThrow(
      await requestReplica(
        database(c.env.DB),
        c.get('agent'),
        {
          replicaType: body.replica_type ?? 'manual',
          instanceId: body.instance_id,
          parentInstanceId: body.parent_instance_id,
          requestedStatus: body.status ?? null,
          poolId: body.pool_id,
          excludeZones: body.exclude_zones ?? undefined,
          maxHourlyCost: body.max_hourly_cost,
        },
        clock.now(),
      ),
    )
    return c.json(
      {
        success: true,
        replica_id: replica.id,
        instance_id: replica.instanceId ?? placeholderInstanceId(replica),
        pool: poolView(replica),
        hourly_cost: replica.hourlyCost,
        status: replica.status,
      },
      created ? 201 : 200,
    )
  },
)

replicaRoutes.openapi(
  createRoute({
    method: 'put',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}',
    summary: 'The real EC2 id of a launched replica',
    request: { body: jsonBody(ReplicaInstanceBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { db, agent, replica } = await replicaOfUrl(c)
    const now = clock.now()
    const late = await endLateLaunch(
      c.env,
      db,
      agent,
      replica,
      { instanceId: body.instance_id, mode: body.mode },
      now,
    )
    if (late) {
      // Billed until its end is known.
      c.executionCtx.waitUntil(followAgent(db, agent.clientId, agent.id, now))
      return c.json({
        success: true,
        replica_id: replica.id,
        instance_id: body.instance_id,
        status: late.status,
      })
    }
    // A replica with a real instance is past launching.
    const to = !body.status || body.status === 'launching' ? 'syncing' : body.status
    orThrow(await moveReplica(db, agent, replica, to, { instanceId: body.instance_id, mode: body.mode }, now))
    const promoted = await followReport(c, agent, replica.id, to, now)
    return c.json({
      success: true,
      replica_id: replica.id,
      instance_id: body.instance_id,
      status: promoted ? 'promoted' : to,
    })
  },
)

replicaRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}/status',
    summary: 'Replica state',
    request: { body: jsonBody(ReplicaStatusBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { db, agent, replica } = await replicaOfUrl(c)
    const facts = {
      errorMessage: body.error_message,
      syncStartedAt: body.sync_started_at,
      syncCompletedAt: body.sync_completed_at,
    }
    const now = clock.now()
    const { changed } = orThrow(await moveReplica(db, agent, replica, body.status, facts, now))
    await followReport(c, agent, replica.id, body.status, now)
    return c.json({ success: true, replica_id: replica.id, status: body.status, changed })
  },
)

replicaRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}/sync-status',
    summary: 'Replica sync progress',
    request: { body: jsonBody(ReplicaSyncBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { db, agent, replica } = await replicaOfUrl(c)
    const now = clock.now()
    const metrics = {
      syncStatus: body.sync_status ?? replica.syncStatus,
      syncLatencyMs: body.sync_latency_ms == null ? replica.syncLatencyMs : Math.round(body.sync_latency_ms),
      stateTransferProgress: body.state_transfer_progress ?? replica.stateTransferProgress,
    }
    const metricsChanged =
      metrics.syncStatus !== replica.syncStatus ||
      metrics.syncLatencyMs !== replica.syncLatencyMs ||
      metrics.stateTransferProgress !== replica.stateTransferProgress
    if (body.status) orThrow(await moveReplica(db, agent, replica, body.status, {}, now))
    if (metricsChanged) {
      await recordSyncMetrics(db, agent, replica.id, metrics, now)
    }
    if (body.status) await followReport(c, agent, replica.id, body.status, now)
    return c.json({ success: true, replica_id: replica.id, status: body.status ?? replica.status })
  },
)

replicaRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}/promote',
    summary: 'Promote a replica to primary',
    request: { body: jsonBody(ReplicaPromoteBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { db, agent, replica } = await replicaOfUrl(c)
    const { promotion, commandId } = orThrow(await promoteByPerson(c.env, db, agent, replica, clock.now()))
    if (promotion.changed) {
      c.executionCtx.waitUntil(followAgent(db, agent.clientId, agent.id, clock.now()))
      if (body.demote_old_primary && promotion.oldInstanceId && understands(agent, 'terminate_instance')) {
        await tellAgent(c.env, agent, {
          instanceId: promotion.newInstanceId,
          commandType: 'terminate_instance',
          priority: PRIORITY.manual,
          payload: { target_instance_id: promotion.oldInstanceId, reason: 'demoted after replica promotion' },
          source: 'manual',
        })
      }
    }
    return c.json({
      success: true,
      replica_id: replica.id,
      new_instance_id: promotion.newInstanceId,
      command_id: commandId,
    })
  },
)

/** The promoted instance holds the workload's Elastic IP (EC2 confirmed it): the switch's traffic moment. */
replicaRoutes.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}/address-moved',
    summary: "The promoted instance holds the workload's Elastic IP: the switch's traffic moment",
    request: { body: jsonBody(ReplicaAddressBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const { db, agent, replica } = await replicaOfUrl(c)
    if (replica.status !== 'promoted') {
      throw new ApiError('CONFLICT', `a ${replica.status} replica is not the primary`, {
        status: replica.status,
      })
    }
    const now = clock.now()
    const changed = await recordPromotionMoment(db, agent, replica, 'trafficSwitchedAt', now)
    if (replica.instanceId) await recordPublicIp(db, agent, replica.instanceId, body.public_ip, now)
    return c.json({ success: true, replica_id: replica.id, public_ip: body.public_ip, changed })
  },
)

/** Ends the replica: `terminating` while EC2 runs its instance (end.ts); installed agents are shown `terminated`. */
replicaRoutes.openapi(
  createRoute({
    method: 'delete',
    middleware: OWN_AGENT,
    path: '/{agentId}/replicas/{replicaId}',
    summary: 'End a replica; the agent terminates its instance',
    responses: answers('OK'),
  }),
  async (c) => {
    const { db, agent, replica } = await replicaOfUrl(c)
    const ended = orThrow(await endReplica(c.env, db, agent, replica, { reason: null }, clock.now()))
    return c.json({
      success: true,
      replica_id: replica.id,
      status: statusForAgent(ended.status, agent.agentVersion),
      command_id: ended.commandId,
    })
  },
)
