/**
 * The HTTP heartbeat is authenticated in the agent's Durable Object (session/credentials.ts): a token
 * proven in D1 once is trusted there, so the heartbeats after it read no D1. Each case below is refused
 * on the very next heartbeat although the object already trusted the token: whatever changes what a
 * token proves tells the object at once (flows/credentials.ts).
 */
import { env, SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents } from '../../../src/db/schema'
import { sha256Hex } from '../../../src/ids'
import { sessionOf } from '../../../src/session/stub'
import { ADMIN, call, db, newAgent, newClient, type TestClient } from '../agent-api/helpers'
import { connect, seedAgent } from '../session/seed'
import { newInstance, registerVerified } from './identity-documents'

const beat = (agentId: string, auth: Record<string, string>, body: Record<string, unknown> = {}) =>
  call(
    'POST',
    `/api/agents/${agentId}/heartbeat`,
    { status: 'online', monitored_instances: [], ...body },
    auth,
  )

const statusOf = async (agentId: string) =>
  (await db().select({ status: agents.status }).from(agents).where(eq(agents.id, agentId)))[0]?.status

/** The close code of the agent's push socket, once the server closes it. */
function closedWith(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.addEventListener('close', (event) => resolve(event.code)))
}

const reconnect = (agent: { agentId: string; instanceId: string; token: string }) =>
  SELF.fetch(`http://x/api/agents/${agent.agentId}/stream?instance_id=${agent.instanceId}`, {
    headers: { Upgrade: 'websocket', Authorization: `Bearer ${agent.token}` },
  })

/** A legacy (client token) agent whose object trusts its client's token. */
async function trustedLegacyAgent(client?: TestClient) {
  const agent = await newAgent(client)
  expect((await beat(agent.agentId, agent.client.auth)).status).toBe(200)
  expect((await beat(agent.agentId, agent.client.auth)).status).toBe(200)
  return agent
}

describe('HTTP heartbeat authentication', () => {
  it('refuses a wrong or missing token 401, before and after the object trusts the right one, writing nothing', async () => {
    const wrong = { Authorization: 'Bearer sgc_not-a-token' }
    expect((await beat((await newAgent()).agentId, wrong)).status).toBe(401)
    const agent = await trustedLegacyAgent()
    for (const auth of [wrong, { Authorization: 'Bearer sga_not-a-token' }, {}]) {
      const res = await beat(agent.agentId, auth, { status: 'offline' })
      expect([res.status, res.json.code]).toEqual([401, 'UNAUTHORIZED'])
    }
    expect(await statusOf(agent.agentId)).toBe('online')
  })

  it('answers a bad body 400 to a known token only (401 first), writing nothing', async () => {
    const agent = await trustedLegacyAgent()
    const bad = { status: 'sleeping' }
    expect((await beat(agent.agentId, agent.client.auth, bad)).status).toBe(400)
    expect((await beat(agent.agentId, { Authorization: 'Bearer sgc_not-a-token' }, bad)).status).toBe(401)
    expect(await statusOf(agent.agentId)).toBe('online')
  })

  it("never beats an agent with another client's or another agent's token (404), trusted or not", async () => {
    const client = await newClient()
    const mine = await registerVerified(client, newInstance())
    const other = await registerVerified(client, newInstance())
    expect((await beat(mine.agentId, mine.auth)).status).toBe(200)
    expect((await beat(mine.agentId, other.auth)).status).toBe(404)

    const legacy = await trustedLegacyAgent()
    const stranger = await newClient()
    await trustedLegacyAgent(stranger)
    for (const auth of [stranger.auth, other.auth]) {
      const res = await beat(legacy.agentId, auth, { status: 'offline' })
      expect([res.status, res.json.code]).toEqual([404, 'NOT_FOUND'])
    }
    expect(await statusOf(legacy.agentId)).toBe('online')
  })

  it('refuses a revoked client token 401 on the very next heartbeat, and takes the new one', async () => {
    const client = await newClient()
    const agent = await trustedLegacyAgent(client)
    const rotated = await call(
      'POST',
      `/api/admin/clients/${client.id}/regenerate-token`,
      { revokeNow: true },
      ADMIN,
    )
    expect(rotated.status).toBe(200)
    const res = await beat(agent.agentId, client.auth, { status: 'offline' })
    expect([res.status, res.json.code]).toEqual([401, 'UNAUTHORIZED'])
    expect(await statusOf(agent.agentId)).toBe('online')
    const renewed = { Authorization: `Bearer ${rotated.json.client.token}` }
    expect((await beat(agent.agentId, renewed)).status).toBe(200)
  })

  it('keeps a rotated token beating through its grace period', async () => {
    const client = await newClient()
    const agent = await trustedLegacyAgent(client)
    const rotated = await call('POST', `/api/admin/clients/${client.id}/regenerate-token`, {}, ADMIN)
    expect(rotated.status).toBe(200)
    expect((await beat(agent.agentId, client.auth)).status).toBe(200)
    expect((await beat(agent.agentId, { Authorization: `Bearer ${rotated.json.client.token}` })).status).toBe(
      200,
    )
  })

  it("refuses a suspended client's agents 403 at once, and takes them back when reactivated", async () => {
    const client = await newClient()
    const legacy = await trustedLegacyAgent(client)
    const verified = await registerVerified(client, newInstance())
    expect((await beat(verified.agentId, verified.auth)).status).toBe(200)
    expect((await call('POST', `/api/admin/clients/${client.id}/suspend`, {}, ADMIN)).status).toBe(200)
    for (const [agentId, auth] of [
      [legacy.agentId, client.auth],
      [verified.agentId, verified.auth],
    ] as const) {
      const res = await beat(agentId, auth, { status: 'offline' })
      expect([res.status, res.json.code]).toEqual([403, 'FORBIDDEN'])
      expect(await statusOf(agentId)).toBe('online')
    }
    expect((await call('POST', `/api/admin/clients/${client.id}/activate`, {}, ADMIN)).status).toBe(200)
    expect((await beat(legacy.agentId, client.auth)).status).toBe(200)
  })

  it("refuses a deleted client's agents 401 at once", async () => {
    const name = `client-${crypto.randomUUID()}`
    const client = await newClient(name)
    const agent = await trustedLegacyAgent(client)
    const deleted = await call('DELETE', `/api/admin/clients/${client.id}`, { confirm: name }, ADMIN)
    expect(deleted.status).toBe(200)
    expect((await beat(agent.agentId, client.auth)).status).toBe(401)
  })

  it('refuses a deleted agent 404 at once, whichever token its object trusted', async () => {
    const client = await newClient()
    const legacy = await trustedLegacyAgent(client)
    const verified = await registerVerified(client, newInstance())
    expect((await beat(verified.agentId, verified.auth)).status).toBe(200)
    for (const [agentId, auth] of [
      [legacy.agentId, client.auth],
      [verified.agentId, verified.auth],
    ] as const) {
      expect((await call('DELETE', `/api/client/agents/${agentId}`, undefined, ADMIN)).status).toBe(200)
      expect((await beat(agentId, auth)).status).toBe(404)
    }
  })

  it("refuses an agent token 401 at once after the operator's reset", async () => {
    const agent = await registerVerified(await newClient(), newInstance())
    expect((await beat(agent.agentId, agent.auth)).status).toBe(200)
    const reset = await call('POST', `/api/admin/agents/${agent.agentId}/reset-identity`, undefined, ADMIN)
    expect(reset.status).toBe(200)
    expect((await beat(agent.agentId, agent.auth)).status).toBe(401)
  })

  it('refuses the client token 403 at once when the agent registers with its identity', async () => {
    const client = await newClient()
    const logicalId = `logical-${crypto.randomUUID()}`
    const instance = newInstance()
    const legacy = await newAgent(client, { logical_agent_id: logicalId, instance_id: instance.instanceId })
    expect((await beat(legacy.agentId, client.auth)).status).toBe(200)
    const verified = await registerVerified(client, instance, logicalId)
    expect(verified.agentId).toBe(legacy.agentId)
    const res = await beat(legacy.agentId, client.auth)
    expect([res.status, res.json.action]).toEqual([403, 'agent_token_required'])
    expect((await beat(verified.agentId, verified.auth)).status).toBe(200)
  })

  it('holds an agent token to its own instance, trusted or not (403)', async () => {
    const instance = newInstance()
    const agent = await registerVerified(await newClient(), instance)
    const elsewhere = { instance_id: 'i-0000000000000dead' }
    expect((await beat(agent.agentId, agent.auth, elsewhere)).status).toBe(403)
    expect((await beat(agent.agentId, agent.auth, { instance_id: instance.instanceId })).status).toBe(200)
    expect((await beat(agent.agentId, agent.auth, elsewhere)).status).toBe(403)
  })

  it('does not remember a proof read in D1 before a forget (a revocation racing the heartbeat)', async () => {
    const agent = await newAgent()
    const session = sessionOf(env, agent.agentId)
    const facts = { status: 'online', instanceId: null, instanceType: null, mode: null, az: null } as const
    const beatOf = { ...facts, agentId: agent.agentId, tokenHash: await sha256Hex(agent.client.token) }
    const asked = await session.heartbeat(beatOf)
    if (asked.ok || asked.reason !== 'unknown_token')
      throw new Error(`expected unknown_token: ${JSON.stringify(asked)}`)
    await session.forgetTokens({ endSockets: false })
    const proof = {
      token: { clientId: agent.client.id, instanceId: null, expiresAt: null },
      epoch: asked.epoch,
    }
    expect(await session.heartbeat({ ...beatOf, proof })).toEqual({ ok: true })
    expect(await session.heartbeat(beatOf)).toMatchObject({ ok: false, reason: 'unknown_token' })
  })

  it("closes a suspended client's push sockets at once, and refuses the reconnect 403", async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connect(agent)
    expect(await link.next()).toMatchObject({ type: 'hello' })
    const closed = closedWith(link.socket)
    expect((await call('POST', `/api/admin/clients/${agent.clientId}/suspend`, {}, ADMIN)).status).toBe(200)
    expect(await closed).toBe(4001)
    expect((await reconnect(agent)).status).toBe(403)
  })

  it('keeps the push sockets open through a rotation with a grace period', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connect(agent)
    expect(await link.next()).toMatchObject({ type: 'hello' })
    expect(
      (await call('POST', `/api/admin/clients/${agent.clientId}/regenerate-token`, {}, ADMIN)).status,
    ).toBe(200)
    link.send({ type: 'ping' })
    expect(await link.next()).toMatchObject({ type: 'pong' })
    link.close()
  })
})
