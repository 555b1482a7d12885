import { env, runInDurableObject } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents } from '../../../src/db/schema'
import { sessionOf } from '../../../src/session/stub'
import { OFFLINE_AFTER_MS } from '../../../src/session/liveness'
import { readLiveness, writeLiveness } from '../../../src/session/store'
import { agentRow, connect, post, seedAgent, type SeededAgent } from '../session/seed'
import { ADMIN, db, get, seedUser } from './seed'

const MINUTE = 60_000

function heartbeat(agent: SeededAgent) {
  return post(agent, '/heartbeat', {
    status: 'online',
    monitored_instances: [agent.instanceId],
    instance_id: agent.instanceId,
    instance_type: 't3.medium',
    mode: 'spot',
    az: 'us-east-1a',
  })
}

/** The object's last sign of life, moved `ms` into the past (instead of waiting). */
async function lastSeenBack(agent: SeededAgent, ms: number): Promise<number> {
  return runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => {
    const liveness = readLiveness(state.storage.sql)
    const lastSeenAt = liveness.lastSeenAt! - ms
    writeLiveness(state.storage.sql, { ...liveness, lastSeenAt })
    return lastSeenAt
  })
}

/** Every page and API that shows the agent's status and last seen, as `[what, status, last seen]`. */
async function shown(agent: SeededAgent, headers: Record<string, string>) {
  const json = async (path: string, h = headers) => (await get(path, h)).json() as Promise<any>
  const html = async (path: string, h = headers) => (await get(path, h)).text()
  const agentRowOf = (page: string) =>
    page.slice(page.indexOf(`data-agent="${agent.agentId}"`)).split('</tr>')[0]!
  const clientRowOf = (page: string) =>
    page.slice(page.indexOf(`data-client="${agent.clientId}"`)).split('</tr>')[0]!
  const badge = (fragment: string) => /class="badge[^"]*">([a-z-]+)</.exec(fragment)?.[1]
  const ts = (fragment: string) => Number(/data-ts="(\d+)"/.exec(fragment)?.[1])

  const list = (await json(`/api/client/${agent.clientId}/agents`)) as any[]
  const detail = await json(`/api/client/agents/${agent.agentId}`)
  const admin = (await json(`/api/admin/agents?search=${agent.agentId}`, ADMIN)).agents[0]
  const client = await json(`/api/client/${agent.clientId}`)
  const adminClients = (await json(`/api/admin/clients?search=${agent.clientId}`, ADMIN)) as any
  const instances = (await json(`/api/client/${agent.clientId}/instances`)) as any[]
  const portalList = agentRowOf(await html(`/c/${agent.clientId}/agents`))
  const adminList = agentRowOf(await html(`/admin/agents?search=${agent.agentId}`, ADMIN))
  const page = await html(`/c/${agent.clientId}/agents/${agent.agentId}`)
  const statusCard = page.slice(page.indexOf('>Status<')).split('class="card"')[0]!
  const adminClientRow = clientRowOf(await html(`/admin/clients?search=${agent.clientId}`, ADMIN))
  const clientsApiRow = (adminClients.clients ?? adminClients).find((c: any) => c.id === agent.clientId)
  return {
    statuses: {
      api: list[0].status,
      detail: detail.status,
      admin: admin.status,
      instances: instances[0].agentStatus,
      portalList: badge(portalList),
      adminList: badge(adminList),
      agentPage: badge(statusCard),
    },
    lastSeen: {
      api: list[0].lastHeartbeatAt,
      detail: detail.lastHeartbeatAt,
      admin: admin.lastHeartbeatAt,
      client: client.lastSync,
      adminClients: clientsApiRow.lastSync,
      portalList: ts(portalList),
      adminList: ts(adminList),
      agentPage: ts(statusCard),
      adminClientsPage: ts(adminClientRow),
    },
  }
}

describe('agent status and last seen on pages and APIs', () => {
  it('come from the agent’s object: a heartbeat D1 never heard of shows, with no D1 write', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    expect((await heartbeat(agent)).status).toBe(200)
    // D1's copy is refreshed every 5 minutes: make it 4 minutes old, as after 8 absorbed heartbeats.
    const stale = Date.now() - 4 * MINUTE
    await db().update(agents).set({ lastHeartbeatAt: stale }).where(eq(agents.id, agent.agentId))
    const before = Date.now()
    expect((await heartbeat(agent)).status).toBe(200)

    const now = await shown(agent, owner.headers)
    expect(Object.values(now.statuses)).toEqual(Array(7).fill('online'))
    for (const [where, at] of Object.entries(now.lastSeen)) {
      expect(at, where).toBeGreaterThanOrEqual(before)
      expect(Date.now() - at, where).toBeLessThanOrEqual(60_000)
    }
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online', lastHeartbeatAt: stale })
  })

  it('show an agent silent past 120 s offline before the alarm records it, with its real last seen', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    await heartbeat(agent)
    const lastSeen = await lastSeenBack(agent, OFFLINE_AFTER_MS + 1000)

    const now = await shown(agent, owner.headers)
    expect(Object.values(now.statuses)).toEqual(Array(7).fill('offline'))
    expect(now.lastSeen.api).toBe(Math.max(lastSeen, (await agentRow(agent.agentId))!.lastHeartbeatAt!))
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
  })

  it('count the push socket’s automatic pings: online and seen ≤ 60 s ago while only pings flow', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const link = await connect(agent)
    await link.next()
    link.send({
      type: 'heartbeat',
      status: 'online',
      instance_id: agent.instanceId,
      instance_type: 't3.medium',
      mode: 'spot',
      az: 'us-east-1a',
    })
    await link.next()
    // The last heartbeat was 3 minutes ago (past the 120 s of silence); the pings kept coming.
    await lastSeenBack(agent, 3 * MINUTE)
    const before = Date.now()
    link.send({ type: 'ping' })
    expect(await link.next()).toEqual({ type: 'pong' })

    const now = await shown(agent, owner.headers)
    expect(Object.values(now.statuses)).toEqual(Array(7).fill('online'))
    for (const [where, at] of Object.entries(now.lastSeen)) {
      expect(at, where).toBeGreaterThanOrEqual(before - 1_000)
      expect(Date.now() - at, where).toBeLessThanOrEqual(60_000)
    }
    link.close()
  })
})
