/**
 * Replica actions of the dashboard (`/api/client/agents/:agentId/replicas/...`): create a manual
 * standby, promote, terminate. The replaced console called the agent routes without auth; these
 * need an owner or an admin and reuse the replica modules the agent API uses.
 */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, jsonBody, routeGroup } from '../group'
import type { Context } from 'hono'
import * as z from 'zod'
import { understands } from '../../flows/tell'
import { clientScopeOf, requirePerson, scopeClientWrite } from '../../auth/middleware'
import { database, type Database } from '../../db/client'
import type { Agent, Replica } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError, found, orThrow } from '../../errors'
import { followAgent } from '../../flows/ledger/follow'
import { tellReplicaLaunch } from '../../flows/replicas/commands'
import { endReplica } from '../../flows/replicas/end'
import { requestReplica } from '../../flows/replicas/manual'
import { promoteByPerson } from '../../flows/replicas/person-promotion'
import { isActiveReplica } from '../../flows/replicas/states'
import { findReplica, statusUpdate } from '../../flows/replicas/store'
import { auditEntry } from '../../db/audit'
import { agentInScope } from '../../db/queries/agents'
import { clock } from '../../clock'

export const CreateReplicaBody = z.object({ poolId: z.string().trim().min(1).max(128).nullish() })

export const replicaActions = routeGroup<AppEnv>(CLIENT_API)

/** The agent of the URL that the person may change (404 across tenants, 403 for viewers). */
async function writableAgent(c: Context<AppEnv>) {
  const db = database(c.env.DB)
  const agent = found(
    await agentInScope(db, clientScopeOf(requirePerson(c)), c.req.param('agentId') ?? ''),
    'agent not found',
  )
  scopeClientWrite(c, agent.clientId)
  return { db, agent }
}

replicaActions.openapi(
  createRoute({
    method: 'post',
    path: '/agents/{agentId}/replicas',
    summary: 'Create a manual standby replica (owner)',
    request: { body: jsonBody(CreateReplicaBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const { db, agent } = await writableAgent(c)
    const body = c.req.valid('json')
    const now = clock.now()
    const { replica } = orThrow(
      await requestReplica(
        db,
        agent,
        {
          replicaType: 'manual',
          instanceId: null,
          parentInstanceId: null,
          requestedStatus: null,
          poolId: body.poolId ?? null,
        },
        now,
      ),
    )
    const commandId = await tellReplicaLaunch(c.env, agent, replica)
    await auditEntry(
      c,
      db,
      {
        action: 'replica.create',
        clientId: agent.clientId,
        targetType: 'replica',
        targetId: replica.id,
        after: { poolId: replica.poolId, status: replica.status },
      },
      now,
    )
    return c.json(
      {
        success: true,
        replicaId: replica.id,
        poolId: replica.poolId,
        hourlyCost: replica.hourlyCost,
        status: replica.status,
        commandId,
      },
      201,
    )
  },
)

replicaActions.openapi(
  createRoute({
    method: 'post',
    path: '/agents/{agentId}/replicas/{replicaId}/promote',
    summary: 'Promote a replica to primary (owner)',
    responses: answers('OK'),
  }),
  async (c) => {
    const { db, agent } = await writableAgent(c)
    const replica = found(await findReplica(db, agent, c.req.param('replicaId')), 'replica not found')
    const now = clock.now()
    const { promotion, commandId } = orThrow(await promoteByPerson(c.env, db, agent, replica, now))
    if (promotion.changed) c.executionCtx.waitUntil(followAgent(db, agent.clientId, agent.id, clock.now()))
    await auditEntry(
      c,
      db,
      {
        action: 'replica.promote',
        clientId: agent.clientId,
        targetType: 'replica',
        targetId: replica.id,
        before: { status: replica.status },
        after: { status: 'promoted', newInstanceId: promotion.newInstanceId },
      },
      now,
    )
    return c.json({ success: true, replicaId: replica.id, newInstanceId: promotion.newInstanceId, commandId })
  },
)

replicaActions.openapi(
  createRoute({
    method: 'delete',
    path: '/agents/{agentId}/replicas/{replicaId}',
    summary: 'Terminate a replica and its instance (owner)',
    request: { query: z.object({ terminated_in_ec2: z.string().optional() }) },
    responses: answers('OK'),
  }),
  async (c) => {
    const { db, agent } = await writableAgent(c)
    const replica = found(await findReplica(db, agent, c.req.param('replicaId')), 'replica not found')
    const now = clock.now()
    const inEc2 = c.req.valid('query').terminated_in_ec2 === '1'
    const ended = await endByClient(c, db, agent, replica, inEc2, now)
    if (!ended.changed)
      return c.json({ success: true, replicaId: replica.id, status: ended.status, commandId: null })
    await auditEntry(
      c,
      db,
      {
        action: 'replica.terminate',
        clientId: agent.clientId,
        targetType: 'replica',
        targetId: replica.id,
        before: { status: replica.status },
        after: { status: ended.status },
      },
      now,
    )
    return c.json({ success: true, replicaId: replica.id, status: ended.status, commandId: ended.commandId })
  },
)

/**
 * The dashboard's Terminate: the agent is told to terminate the instance (`terminating` until it did);
 * `terminated_in_ec2=1` ends it on the client's word (no command of a 4.0.0 agent ends an instance, and
 * a termination that failed is notified to be done by hand). Without the flag, a replica whose agent
 * cannot terminate it is refused: it stays tracked, as EC2 runs and bills it.
 */
async function endByClient(
  c: Context<AppEnv>,
  db: Database,
  agent: Agent,
  replica: Replica,
  terminatedInEc2: boolean,
  now: number,
) {
  const canTerminate = understands(agent, 'terminate_replica')
  const runs = !!replica.instanceId && (isActiveReplica(replica.status) || replica.status === 'terminating')
  if (runs && (!canTerminate || replica.status === 'terminating') && terminatedInEc2) {
    const facts = { errorMessage: `${replica.instanceId} terminated in EC2 by the client` }
    const { update } = orThrow(statusUpdate(db, replica, 'terminated', facts, now))
    if (update) await update
    return { status: 'terminated' as const, commandId: null, changed: true }
  }
  if (runs && !canTerminate) {
    throw new ApiError(
      'CONFLICT',
      `agent ${agent.agentVersion ?? 'unknown'} cannot terminate an instance: terminate ${replica.instanceId} ` +
        `in EC2, then mark the replica terminated (terminated_in_ec2=1)`,
      { instanceId: replica.instanceId },
    )
  }
  return orThrow(await endReplica(c.env, db, agent, replica, { reason: null }, now))
}
