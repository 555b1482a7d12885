import { describe, expect, it } from 'vitest'
import { auditLog } from '../../../src/db/schema'
import { eq } from 'drizzle-orm'
import { ADMIN, db, get, seedClient, seedFleet, seedUser, send } from './seed'

describe('people-facing agent routes', () => {
  it('answers 401 JSON without credentials and never accepts a client (agent) token', async () => {
    const client = await seedClient()
    const res = await get(`/api/client/${client.id}/agents`, {})
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' })
    const agentToken = await get(`/api/client/${client.id}/agents`, { Authorization: 'Bearer sg_notaperson' })
    expect(agentToken.status).toBe(401)
  })

  it('lists a client its own agents and answers 404 for another client', async () => {
    const mine = await seedClient()
    const other = await seedClient()
    const { agentId } = await seedFleet(mine.id)
    const theirs = await seedFleet(other.id)
    const viewer = await seedUser(mine.id, 'viewer')
    const res = await get(`/api/client/${mine.id}/agents`, viewer.headers)
    expect(res.status).toBe(200)
    const list = (await res.json()) as { id: string; currentMode: string }[]
    expect(list.map((a) => a.id)).toEqual([agentId])
    expect(list[0]?.currentMode).toBe('spot')
    expect(res.headers.get('X-Total-Count')).toBe('1')
    expect((await get(`/api/client/${other.id}/agents`, viewer.headers)).status).toBe(404)
    expect((await get(`/api/client/agents/${theirs.agentId}`, viewer.headers)).status).toBe(404)
    expect((await get(`/api/client/agents/${agentId}`, viewer.headers)).status).toBe(200)
  })

  it('lets an admin see any client', async () => {
    const client = await seedClient()
    const { agentId } = await seedFleet(client.id)
    const res = await get(`/api/client/agents/${agentId}`, ADMIN)
    expect(res.status).toBe(200)
  })

  it('refuses a viewer a change (403) and lets the owner toggle, with an audit entry', async () => {
    const client = await seedClient()
    const { agentId } = await seedFleet(client.id)
    const viewer = await seedUser(client.id, 'viewer')
    const owner = await seedUser(client.id, 'owner')
    expect(
      (await send('POST', `/api/client/agents/${agentId}/toggle-enabled`, viewer.headers, { enabled: false }))
        .status,
    ).toBe(403)
    const res = await send('POST', `/api/client/agents/${agentId}/toggle-enabled`, owner.headers, {
      enabled: false,
    })
    expect(res.status).toBe(200)
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, agentId))
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({
      action: 'agent.toggle_enabled',
      actorId: owner.userId,
      before: { enabled: true },
      after: { enabled: false },
    })
  })

  it('names the offending fields of a bad settings body and keeps auto-switch and manual replica exclusive', async () => {
    const client = await seedClient()
    const { agentId } = await seedFleet(client.id)
    const bad = await send('POST', `/api/client/agents/${agentId}/config`, ADMIN, { riskThreshold: 3 })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('riskThreshold')
    const both = await send('POST', `/api/client/agents/${agentId}/config`, ADMIN, {
      autoSwitchEnabled: true,
      manualReplicaEnabled: true,
    })
    expect(both.status).toBe(400)
    const res = await send('POST', `/api/client/agents/${agentId}/config`, ADMIN, {
      manualReplicaEnabled: true,
      terminateWaitMinutes: 10,
      minSavingsPercent: 20,
    })
    expect(await res.json()).toMatchObject({
      success: true,
      auto_switch_enabled: false,
      manual_replica_enabled: true,
      terminate_wait_seconds: 600,
      settings: { minSavingsPercent: 20 },
    })
  })

  it('deletes an agent: it leaves the list and an uninstall is asked of its session', async () => {
    const client = await seedClient()
    const { agentId } = await seedFleet(client.id)
    const res = await send('DELETE', `/api/client/agents/${agentId}`, ADMIN)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ success: true })
    const list = (await (await get(`/api/client/${client.id}/agents`, ADMIN)).json()) as unknown[]
    expect(list).toHaveLength(0)
    const history = (await (await get(`/api/client/${client.id}/agents/history`, ADMIN)).json()) as {
      status: string
    }[]
    expect(history[0]?.status).toBe('deleted')
    expect((await send('DELETE', `/api/client/agents/${agentId}`, ADMIN)).status).toBe(404)
  })

  it('brings a deleted agent back when it is enabled again', async () => {
    const client = await seedClient()
    const { agentId } = await seedFleet(client.id)
    await send('DELETE', `/api/client/agents/${agentId}`, ADMIN)
    const res = await send('POST', `/api/client/agents/${agentId}/toggle-enabled`, ADMIN, { enabled: true })
    expect(res.status).toBe(200)
    const list = (await (await get(`/api/client/${client.id}/agents`, ADMIN)).json()) as { id: string }[]
    expect(list.map((a) => a.id)).toEqual([agentId])
  })
})
