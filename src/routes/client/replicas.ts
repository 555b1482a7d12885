/**
 * Replica actions of the dashboard (`/api/client/agents/:agentId/replicas/...`): create a manual
 * standby, promote, terminate. The replaced console called the agent routes without auth; these
 * need an owner or an admin and reuse the replica modules the agent API uses.
 */
import { Hono, type Context } from 'hono'
import * as z from 'zod'
import { understands } from '../../flows/tell'
import { clientScopeOf, personAuth, requirePerson, scopeClientWrite } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { followAgent } from '../../flows/ledger/follow'
import { tellReplicaLaunch, tellReplicaTermination } from '../../replicas/commands'
import { requestReplica } from '../../replicas/manual'
import { promoteByPerson } from '../../replicas/person-promotion'
import { isActiveReplica } from '../../replicas/states'
import { findReplica, statusUpdate } from '../../replicas/store'
import { readJson } from '../../validate'
import { auditEntry } from '../../db/audit'
import { agentInScope } from '../../db/queries/agents'
import { clock } from '../../clock'

export const CreateReplicaBody = z.object({ poolId: z.string().trim().min(1).max(128).nullish() })

export const clientReplicas = new Hono<AppEnv>()
clientReplicas.use(personAuth)

/** The agent of the URL that the person may change (404 across tenants, 403 for viewers). */
async function writableAgent(c: Context<AppEnv>) {
  const db = database(c.env.DB)
  const agent = await agentInScope(db, clientScopeOf(requirePerson(c)), c.req.param('agentId') ?? '')
  scopeClientWrite(c, agent.clientId)
  return { db, agent }
}

clientReplicas.post('/agents/:agentId/replicas', async (c) => {
  const { db, agent } = await writableAgent(c)
  const body = await readJson(c, CreateReplicaBody)
  const now = clock.now()
  const { replica } = await requestReplica(
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
})

clientReplicas.post('/agents/:agentId/replicas/:replicaId/promote', async (c) => {
  const { db, agent } = await writableAgent(c)
  const replica = await findReplica(db, agent, c.req.param('replicaId'))
  const now = clock.now()
  const { promotion, commandId } = await promoteByPerson(c.env, db, agent, replica, now)
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
})

clientReplicas.delete('/agents/:agentId/replicas/:replicaId', async (c) => {
  const { db, agent } = await writableAgent(c)
  const replica = await findReplica(db, agent, c.req.param('replicaId'))
  const now = clock.now()
  // No command of a 4.0.0 agent ends an instance: the replica stays tracked (EC2 runs and bills it)
  // until the client says it terminated it in EC2.
  const byClient = !!replica.instanceId && !understands(agent, 'terminate_replica')
  if (byClient && isActiveReplica(replica.status) && c.req.query('terminated_in_ec2') !== '1') {
    throw new ApiError(
      'CONFLICT',
      `agent ${agent.agentVersion ?? 'unknown'} cannot terminate an instance: terminate ${replica.instanceId} ` +
        `in EC2, then mark the replica terminated (terminated_in_ec2=1)`,
      { instanceId: replica.instanceId },
    )
  }
  const facts = byClient ? { errorMessage: `${replica.instanceId} terminated in EC2 by the client` } : {}
  const update = statusUpdate(db, replica, 'terminated', facts, now)
  if (!update) return c.json({ success: true, replicaId: replica.id, status: 'terminated', commandId: null })
  await update
  const commandId = await tellReplicaTermination(c.env, agent, replica)
  await auditEntry(
    c,
    db,
    {
      action: 'replica.terminate',
      clientId: agent.clientId,
      targetType: 'replica',
      targetId: replica.id,
      before: { status: replica.status },
      after: { status: 'terminated' },
    },
    now,
  )
  return c.json({ success: true, replicaId: replica.id, status: 'terminated', commandId })
})
