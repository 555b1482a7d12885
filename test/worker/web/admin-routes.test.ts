import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, clients, cronRuns } from '../../../src/db/schema'
import { ADMIN, db, get, seedClient, seedFleet, seedUser, send } from './seed'

const ADMIN_GETS = [
  '/api/admin/clients',
  '/api/admin/stats',
  '/api/admin/agents',
  '/api/admin/instances',
  '/api/admin/activity',
  '/api/admin/audit',
  '/api/admin/system-health',
  '/api/admin/users',
]

describe('admin routes', () => {
  it('require authentication (401 JSON) and an admin (403 for a client owner)', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    for (const path of ADMIN_GETS) {
      expect((await get(path, {})).status, path).toBe(401)
      expect((await get(path, owner.headers)).status, path).toBe(403)
      expect((await get(path, ADMIN)).status, path).toBe(200)
    }
  })

  it("accept an admin's personal token as well as ADMIN_TOKEN", async () => {
    const admin = await seedUser(null, 'admin')
    expect((await get('/api/admin/stats', admin.headers)).status).toBe(200)
  })

  it('search clients on the server and count agents once per client', async () => {
    const name = `Zebra ${crypto.randomUUID().slice(0, 6)}`
    const client = await seedClient(name)
    await seedFleet(client.id)
    const res = await get(`/api/admin/clients?search=${encodeURIComponent(name)}`, ADMIN)
    const rows = (await res.json()) as {
      id: string
      agentsTotal: number
      agentsOnline: number
      instances: number
    }[]
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: client.id, agentsTotal: 1, agentsOnline: 1, instances: 1 })
    expect(res.headers.get('X-Total-Count')).toBe('1')
    expect((await get('/api/admin/clients?limit=999', ADMIN)).status).toBe(400)
  })

  it('suspend and reactivate a client, auditing before and after', async () => {
    const client = await seedClient()
    expect((await send('POST', `/api/admin/clients/${client.id}/suspend`, ADMIN)).status).toBe(200)
    const [row] = await db().select().from(clients).where(eq(clients.id, client.id))
    expect(row?.status).toBe('suspended')
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, client.id))
    expect(audit[0]).toMatchObject({
      action: 'client.suspend',
      actorType: 'operator',
      before: { status: 'active' },
      after: { status: 'suspended' },
    })
    expect((await send('POST', `/api/admin/clients/${client.id}/activate`, ADMIN)).status).toBe(200)
  })

  it('delete a client only with its typed name', async () => {
    const client = await seedClient()
    const wrong = await send('DELETE', `/api/admin/clients/${client.id}`, ADMIN, { confirm: 'nope' })
    expect(wrong.status).toBe(400)
    expect(JSON.stringify(await wrong.json())).toContain('confirm')
    expect(
      (await send('DELETE', `/api/admin/clients/${client.id}`, ADMIN, { confirm: client.name })).status,
    ).toBe(200)
    expect((await get(`/api/admin/clients/${client.id}`, ADMIN)).status).toBe(404)
    expect(
      (await send('DELETE', `/api/admin/clients/${client.id}`, ADMIN, { confirm: client.name })).status,
    ).toBe(404)
  })

  it('filter the fleet lists with search on the server', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const agents = (await (await get(`/api/admin/agents?search=${fleet.instanceId}`, ADMIN)).json()) as {
      agents: { id: string }[]
      total: number
    }
    expect(agents).toMatchObject({ total: 1, agents: [{ id: fleet.agentId }] })
    const inst = (await (
      await get(`/api/admin/instances?search=${fleet.instanceId}&mode=spot`, ADMIN)
    ).json()) as { instances: { spotPrice: number; ondemandPrice: number; savingsPercent: number }[] }
    expect(inst.instances[0]).toMatchObject({ spotPrice: 0.015, ondemandPrice: 0.0416, savingsPercent: 63.9 })
    expect((await get('/api/admin/instances?mode=boat', ADMIN)).status).toBe(400)
  })

  it('create admins with a valid e-mail and a 12+ character password, never twice', async () => {
    const email = `a${crypto.randomUUID().slice(0, 8)}@example.com`
    expect((await send('POST', '/api/admin/users', ADMIN, { email, password: 'short' })).status).toBe(400)
    const res = await send('POST', '/api/admin/users', ADMIN, { email, password: 'long enough password' })
    expect(res.status).toBe(201)
    expect(JSON.stringify(await res.json())).not.toContain('password')
    expect(
      (await send('POST', '/api/admin/users', ADMIN, { email, password: 'long enough password' })).status,
    ).toBe(409)
  })

  it('disable a client user: its personal token stops working and the audit log has the change', async () => {
    const client = await seedClient()
    const viewer = await seedUser(client.id, 'viewer')
    expect((await get('/api/me', viewer.headers)).status).toBe(200)
    expect((await send('POST', `/api/admin/users/${viewer.userId}/disable`, ADMIN)).status).toBe(200)
    expect((await get('/api/me', viewer.headers)).status).toBe(401)
    const [entry] = await db().select().from(auditLog).where(eq(auditLog.targetId, viewer.userId))
    expect(entry).toMatchObject({ action: 'user.disable', clientId: client.id, targetType: 'user' })
    expect((await send('POST', '/api/admin/users/usr_missing/disable', ADMIN)).status).toBe(404)
  })

  it('judge a cron job late by its own cadence: an hourly job 30 minutes old is fine, a 5-minute one is not', async () => {
    const now = Date.now()
    const halfHourAgo = now - 30 * 60_000
    await db().delete(cronRuns)
    await db()
      .insert(cronRuns)
      .values([
        { job: 'ledger', startedAt: halfHourAgo, finishedAt: halfHourAgo, ok: true },
        { job: 'engine', startedAt: now, finishedAt: now, ok: true },
      ])
    const healthy = (await (await get('/api/admin/system-health', ADMIN)).json()) as Record<string, unknown>
    expect(healthy).toMatchObject({ apiStatus: 'healthy' })
    await db().update(cronRuns).set({ startedAt: halfHourAgo }).where(eq(cronRuns.job, 'engine'))
    const late = (await (await get('/api/admin/system-health', ADMIN)).json()) as Record<string, unknown>
    expect(late).toMatchObject({ apiStatus: 'degraded' })
  })

  it('report real health checks', async () => {
    const body = (await (await get('/api/admin/system-health', ADMIN)).json()) as Record<string, unknown>
    expect(body).toMatchObject({
      database: 'connected',
      cronRuns: expect.any(Array),
      agentVersions: expect.any(Array),
    })
  })
})
