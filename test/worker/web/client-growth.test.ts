import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { clientGrowth } from '../../../src/db/queries/client-growth'
import { snapshotClients } from '../../../src/flows/clients'
import { agents, clientDaily, clients } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { DAY_MS, utcDay } from '../../../src/ledger/rollup'
import { CRON_HOURLY } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { ADMIN, db, get, seedClient, seedUser } from './seed'

async function seedAgent(clientId: string, lastHeartbeatAt: number) {
  const now = Date.now()
  await db()
    .insert(agents)
    .values({
      id: newId('agt'),
      clientId,
      logicalAgentId: `growth-${crypto.randomUUID().slice(0, 8)}`,
      status: 'online',
      lastHeartbeatAt,
      createdAt: now,
      updatedAt: now,
    })
}

async function snapshotRows(day: string) {
  return db().select().from(clientDaily).where(eq(clientDaily.day, day))
}

describe('client growth', () => {
  it('requires an admin and validates days (1 to 365)', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    expect((await get('/api/admin/clients/growth', {})).status).toBe(401)
    expect((await get('/api/admin/clients/growth', owner.headers)).status).toBe(403)
    for (const days of ['0', '366', '1.5', 'abc']) {
      const res = await get(`/api/admin/clients/growth?days=${days}`, ADMIN)
      expect(res.status, days).toBe(400)
      expect(await res.json()).toMatchObject({ code: expect.any(String) })
    }
    expect((await get('/api/admin/clients/growth?days=365', ADMIN)).status).toBe(200)
    expect((await get('/api/admin/clients/growth', ADMIN)).status).toBe(200)
  })

  it('answers only the days that have a real snapshot, oldest first, within the window', async () => {
    const now = Date.now()
    const day = (back: number) => utcDay(now - back * DAY_MS)
    await db()
      .insert(clientDaily)
      .values([
        { day: day(40), total: 1, newClients: 1, active: 0, computedAt: now - 40 * DAY_MS },
        { day: day(3), total: 5, newClients: 2, active: 3, computedAt: now - 3 * DAY_MS },
        { day: day(1), total: 6, newClients: 1, active: 4, computedAt: now - DAY_MS },
      ])
    const res = await get('/api/admin/clients/growth?days=30', ADMIN)
    expect(res.status).toBe(200)
    const rows = (await res.json()) as { date: string; total: number; new: number; active: number }[]
    // No row is invented for the days between snapshots (day(2)) nor for the one outside the window.
    expect(rows.filter((r) => r.date !== day(0))).toEqual([
      { date: day(3), total: 5, new: 2, active: 3 },
      { date: day(1), total: 6, new: 1, active: 4 },
    ])
    expect((await clientGrowth(db(), 2, now)).map((r) => r.date).filter((d) => d !== day(0))).toEqual([
      day(1),
    ])
    expect(await clientGrowth(db(), 365, now)).toContainEqual({ date: day(40), total: 1, new: 1, active: 0 })
    const page = await get('/admin', ADMIN)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Clients, 30 d snapshots')
  })

  it('the hourly cron upserts one row per day: total, new today, active by heartbeat today', async () => {
    const now = Date.now()
    const today = utcDay(now)
    await runScheduled(CRON_HOURLY, env, now)
    const [before] = await snapshotRows(today)
    expect(before).toBeDefined()

    const fresh = await seedClient() // created today, heartbeat today
    await seedAgent(fresh.id, now)
    const idle = await seedClient() // created today, last heartbeat two days ago
    await seedAgent(idle.id, now - 2 * DAY_MS)
    const gone = await seedClient() // deleted: counted nowhere
    await db().update(clients).set({ status: 'deleted' }).where(eq(clients.id, gone.id))
    await seedAgent(gone.id, now)

    await runScheduled(CRON_HOURLY, env, now + 1000)
    await runScheduled(CRON_HOURLY, env, now + 2000) // a second run the same day changes nothing
    const rows = await snapshotRows(today)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      total: before!.total + 2,
      newClients: before!.newClients + 2,
      active: before!.active + 1,
      computedAt: now + 2000,
    })
    expect(await snapshotClients(db(), now + 3000)).toEqual({
      date: today,
      total: before!.total + 2,
      new: before!.newClients + 2,
      active: before!.active + 1,
    })
  })
})
