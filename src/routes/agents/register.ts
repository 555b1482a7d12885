/** POST /api/agents/register: an agent (re-)registers its instance. */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { bearerToken, clientForToken } from '../../auth/middleware'
import { configFor } from '../../db/queries/agent-config'
import { registerAgent } from '../../flows/register'
import { fact, instanceIdField, modeField, requiredFact } from './wire'
import { database } from '../../db/client'
import { followAgent } from '../../flows/ledger/follow'
import type { AppEnv } from '../../env'
import { ApiError, orThrow } from '../../errors'
import { sessionOf } from '../../session/stub'
import { clock } from '../../clock'

export const RegisterBody = z.object({
  /** Used only when the Authorization header is missing. */
  client_token: z.string().max(512).nullish(),
  /** Falls back to `instance_id`. */
  logical_agent_id: fact,
  instance_id: instanceIdField,
  instance_type: requiredFact,
  region: requiredFact,
  az: requiredFact,
  hostname: fact,
  ami_id: fact,
  mode: modeField,
  agent_version: fact,
  private_ip: fact,
  /** null: the instance has no public IPv4. */
  public_ip: fact,
  /** 5.x: the `ReplicaId` tag of a replica's instance; a replica not promoted is refused (409/410). */
  replica_id: fact,
})

export const register = routeGroup<AppEnv>(AGENT_API)

register.openapi(
  createRoute({
    method: 'post',
    path: '/register',
    summary: 'Register (again) an agent; the same logical id keeps its agent_id',
    request: { body: jsonBody(RegisterBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const token = bearerToken(c.req.header('Authorization')) ?? body.client_token?.trim()
    if (!token) throw new ApiError('UNAUTHORIZED', 'missing client token')
    const db = database(c.env.DB)
    const now = clock.now()
    const client = await clientForToken(db, token, now)
    c.set('principal', { kind: 'agent', clientId: client.id })
    const outcome = orThrow(
      await registerAgent(
        db,
        {
          clientId: client.id,
          logicalAgentId: body.logical_agent_id ?? body.instance_id,
          instanceId: body.instance_id,
          instanceType: body.instance_type,
          region: body.region,
          az: body.az,
          amiId: body.ami_id,
          mode: body.mode,
          hostname: body.hostname,
          agentVersion: body.agent_version,
          privateIp: body.private_ip,
          publicIp: body.public_ip,
          replicaId: body.replica_id,
        },
        now,
      ),
    )
    const { agent } = outcome
    const ref = { clientId: client.id, agentId: agent.id, instanceId: body.instance_id }
    if (outcome.kind === 'deleted') {
      // Its uninstall is all it may still do: the 5.x agent fetches it with this agent id and runs it.
      const commandId = await sessionOf(c.env, agent.id).uninstallFor({
        ...ref,
        agentVersion: body.agent_version ?? agent.agentVersion,
      })
      throw new ApiError('GONE', 'agent was deleted; re-enable it from the dashboard', {
        action: 'uninstall',
        agent_id: agent.id,
        command_id: commandId,
      })
    }
    await sessionOf(c.env, agent.id).registered({ ...ref, agentVersion: agent.agentVersion })
    c.executionCtx.waitUntil(followAgent(db, client.id, agent.id, now))
    return c.json({ agent_id: agent.id, client_id: client.id, config: await configFor(db, agent) })
  },
)
