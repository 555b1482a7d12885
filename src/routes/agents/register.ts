/**
 * POST /api/agents/register: an agent (re-)registers its instance with its client token; a 5.x agent
 * adds its signed instance identity document and gets an agent token (docs/trust-model.md).
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { bearerToken, clientForToken } from '../../auth/middleware'
import { configFor } from '../../db/queries/agent-config'
import { pricingRoleOf } from '../../flows/pricing-reporters'
import { registerAgent } from '../../flows/register'
import { fact, instanceIdField, modeField, requiredFact } from './wire'
import { database } from '../../db/client'
import { followAgent } from '../../flows/ledger/follow'
import type { AppEnv } from '../../env'
import { ApiError, orThrow } from '../../errors'
import { sessionOf } from '../../session/stub'
import { clock } from '../../clock'
import { settingsOf } from '../../env'
import { verifyIdentityDocument } from '../../auth/instance-identity'
import type { InstanceProof } from '../../flows/identity'

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
  /** 5.x: DescribeImages of `ami_id`: its `Architecture` (`x86_64`, `arm64`...); absent: unknown. */
  image_architecture: fact,
  /** 5.x: DescribeImages of `ami_id`: its `EnaSupport` (absent there: false); absent here: unknown. */
  image_ena_support: z.boolean().nullish(),
  mode: modeField,
  agent_version: fact,
  private_ip: fact,
  /** null: the instance has no public IPv4. */
  public_ip: fact,
  /** 5.x: the `ReplicaId` tag of a replica's instance; a replica not promoted is refused (409/410). */
  replica_id: fact,
  /** 5.x: IMDS `dynamic/instance-identity/document`, exactly as served (the signature covers its bytes). */
  identity_document: z.string().max(8192).nullish(),
  /** 5.x: IMDS `dynamic/instance-identity/signature` (base64 RSA PKCS#1 v1.5, SHA-256). */
  identity_signature: z.string().max(4096).nullish(),
  /** 5.x: the agent token this instance got at its first verified registration (a restart). */
  agent_token: z.string().max(512).nullish(),
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
    const proof = await proofOf(settingsOf(c.env).identityTrust, body)
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
          imageArchitecture: body.image_architecture,
          imageEnaSupport: body.image_ena_support ?? null,
          mode: body.mode,
          hostname: body.hostname,
          agentVersion: body.agent_version,
          privateIp: body.private_ip,
          publicIp: body.public_ip,
          replicaId: body.replica_id,
          proof,
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
    return c.json({
      agent_id: agent.id,
      client_id: client.id,
      // Said to an agent that sent a document; installed agents' answer stays as it always was.
      ...(body.identity_document ? { identity: agent.identity } : {}),
      // Shown once: only its hash is stored.
      ...(outcome.agentToken ? { agent_token: outcome.agentToken } : {}),
      config: { ...(await configFor(db, agent)), ...(await pricingRoleOf(db, agent, now)) },
    })
  },
)

/**
 * The instance proof of a registration: its document verified against the trust list and naming the
 * registering instance (401 bad signature, 403 another instance's document, 400 malformed), or null
 * without a document or with an empty trust list (the fail-safe: the agent registers unverified).
 */
async function proofOf(
  trust: readonly string[],
  body: z.output<typeof RegisterBody>,
): Promise<InstanceProof | null> {
  if (!body.identity_document) return null
  if (!body.identity_signature)
    throw new ApiError('BAD_REQUEST', 'identity_document needs its identity_signature')
  const check = await verifyIdentityDocument(trust, body.identity_document, body.identity_signature)
  if (!check.ok) {
    switch (check.reason) {
      case 'untrusted':
        return null
      case 'bad_signature':
        throw new ApiError('UNAUTHORIZED', 'instance identity signature does not verify', {
          action: 'identity_invalid',
        })
      case 'malformed':
        throw new ApiError('BAD_REQUEST', 'instance identity document is not a valid document')
      default:
        return check.reason satisfies never
    }
  }
  const { document } = check
  if (document.instanceId !== body.instance_id || document.region !== body.region)
    throw new ApiError('FORBIDDEN', 'the identity document is of another instance', {
      action: 'identity_mismatch',
    })
  return {
    place: { accountId: document.accountId, region: document.region, instanceId: document.instanceId },
    agentToken: body.agent_token?.trim() || null,
  }
}
