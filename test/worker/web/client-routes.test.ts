import { describe, expect, it } from 'vitest'
import { commands, notifications, pools, priceQuotes, savingsDaily, switches } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { ADMIN, db, get, seedClient, seedFleet, seedUser, send } from './seed'

describe('client read routes', () => {
  it('answer 404 for another client and 401 without credentials on every read', async () => {
    const mine = await seedClient()
    const other = await seedClient()
    const theirs = await seedFleet(other.id)
    const viewer = await seedUser(mine.id, 'viewer')
    const paths = [
      `/api/client/${other.id}`,
      `/api/client/${other.id}/overview`,
      `/api/client/${other.id}/instances`,
      `/api/client/${other.id}/replicas`,
      `/api/client/${other.id}/decisions`,
      `/api/client/${other.id}/switch-history`,
      `/api/client/${other.id}/stats/charts`,
      `/api/client/${other.id}/export/savings.csv`,
      `/api/client/${other.id}/export/switches.csv`,
      `/api/client/${other.id}/users`,
      `/api/client/instances/${theirs.instanceId}/pricing`,
      `/api/client/instances/${theirs.instanceId}/metrics`,
      `/api/client/instances/${theirs.instanceId}/price-history`,
      `/api/client/instances/${theirs.instanceId}/available-options`,
    ]
    for (const path of paths) {
      expect((await get(path, {})).status, path).toBe(401)
      expect((await get(path, viewer.headers)).status, path).toBe(404)
      expect((await get(path, ADMIN)).status, path).toBe(200)
    }
  })

  it('price an instance: pools with savings, price history with more than one point per pool', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const owner = await seedUser(client.id, 'owner')
    const pricing = (await (
      await get(`/api/client/instances/${fleet.instanceId}/pricing`, owner.headers)
    ).json()) as { pools: { id: string; price: number; savings: number }[]; onDemand: { price: number } }
    expect(pricing.onDemand.price).toBe(0.0416)
    expect(pricing.pools.find((p) => p.id === fleet.poolB)).toMatchObject({ price: 0.012, savings: 71.2 })
    const history = (await (
      await get(`/api/client/instances/${fleet.instanceId}/price-history?days=1`, owner.headers)
    ).json()) as {
      pools: { key: string }[]
      data: Record<string, unknown>[]
      series: { pools: { id: string; points: unknown[] }[]; onDemand: unknown[] }
    }
    expect(history.pools.map((p) => p.key).sort()).toEqual([`pool_${fleet.poolA}`, `pool_${fleet.poolB}`])
    for (const p of history.series.pools) expect(p.points.length).toBeGreaterThan(1)
    expect(history.series.onDemand.length).toBeGreaterThan(1)
    expect(history.data.length).toBeGreaterThan(2)
    expect(
      (await get(`/api/client/instances/${fleet.instanceId}/price-history?range=2y`, owner.headers)).status,
    ).toBe(400)
  })

  it('offer the instance types with a fresh price in the same region as switch options', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const owner = await seedUser(client.id, 'owner')
    const now = Date.now()
    const seeded = [
      ['m5.large', fleet.region, now - 60_000],
      ['c5.xlarge', fleet.region, now - 6 * 3600_000], // stale: not offered
      ['r5.large', `${fleet.region}-other`, now - 60_000], // another region: not offered
    ] as const
    for (const [type, region, reportedAt] of seeded) {
      const id = `${type}.${region}a`
      await db()
        .insert(pools)
        .values({ id, instanceType: type, region, az: `${region}a`, createdAt: now })
      await db()
        .insert(priceQuotes)
        .values({
          series: id,
          clientId: client.id,
          price: 0.05,
          changedAt: reportedAt,
          reportedAt,
          shared: false,
        })
    }
    const res = await get(`/api/client/instances/${fleet.instanceId}/available-options`, owner.headers)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ currentType: 't3.medium', currentRegion: fleet.region, currentMode: 'spot' })
    // The current type stays listed although its seeded pools carry no freshness stamp.
    expect(body.availableTypes).toEqual(['m5.large', 't3.medium'])
    expect((body.availablePools as { id: string }[]).map((p) => p.id).sort()).toEqual([
      fleet.poolA,
      fleet.poolB,
    ])
  })

  it("show a command's state to its client only", async () => {
    const client = await seedClient()
    const other = await seedClient()
    const fleet = await seedFleet(client.id)
    const id = newId('cmd')
    const now = Date.now()
    await db().insert(commands).values({
      id,
      clientId: client.id,
      agentId: fleet.agentId,
      commandType: 'switch',
      priority: 75,
      source: 'manual',
      status: 'delivered',
      createdAt: now,
      updatedAt: now,
    })
    expect(await (await get(`/api/client/commands/${id}`, ADMIN)).json()).toMatchObject({
      id,
      status: 'delivered',
    })
    expect(
      (await get(`/api/client/commands/${id}`, (await seedUser(other.id, 'owner')).headers)).status,
    ).toBe(404)
    expect(
      (await get(`/api/client/commands/${id}`, (await seedUser(client.id, 'viewer')).headers)).status,
    ).toBe(200)
  })

  it('export switch history and savings as CSV, neutralising spreadsheet formulas', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const now = Date.now()
    await db()
      .insert(switches)
      .values({
        id: newId('sw'),
        clientId: client.id,
        agentId: fleet.agentId,
        trigger: '=cmd()',
        oldInstanceId: 'i-old',
        newInstanceId: 'i-new',
        oldPrice: 0.02,
        newPrice: 0.012,
        downtimeMs: 4200,
        receivedAt: now,
      })
    await db()
      .insert(savingsDaily)
      .values({
        agentId: fleet.agentId,
        clientId: client.id,
        // A finished day: the last days come from the usage segments up to now (ledger/live.ts).
        day: new Date(now - 5 * 86_400_000).toISOString().slice(0, 10),
        baselineCost: 1,
        primaryCost: 0.3,
        replicaCost: 0.1,
        overlapCost: 0,
        savings: 0.6,
        computedAt: now,
      })
    const csv = await (await get(`/api/client/${client.id}/export/switches.csv`, ADMIN)).text()
    expect(csv).toContain("'=cmd()")
    expect(csv).toContain('i-old,i-new')
    const history = (await (await get(`/api/client/${client.id}/switch-history`, ADMIN)).json()) as {
      savingsImpact: number
      downtimeMs: number
    }[]
    expect(history[0]).toMatchObject({ savingsImpact: 0.008, downtimeMs: 4200 })
    const savings = await get(`/api/client/${client.id}/export/savings.csv`, ADMIN)
    expect(savings.headers.get('Content-Disposition')).toContain('attachment')
    expect((await savings.text()).split('\r\n')[1]).toContain(',0.6')
  })

  it('keep read state per user and never mark another tenant read', async () => {
    const a = await seedClient()
    const b = await seedClient()
    const now = Date.now()
    const noteA = newId('ntf')
    const noteB = newId('ntf')
    await db()
      .insert(notifications)
      .values([
        {
          id: noteA,
          clientId: a.id,
          kind: 'agent_offline',
          severity: 'warning',
          message: 'agent went offline',
          createdAt: now,
        },
        {
          id: noteB,
          clientId: b.id,
          kind: 'agent_offline',
          severity: 'warning',
          message: 'other tenant',
          createdAt: now,
        },
      ])
    const alice = await seedUser(a.id, 'viewer')
    const bob = await seedUser(a.id, 'viewer')
    const carol = await seedUser(b.id, 'owner')
    expect((await send('POST', '/api/notifications/mark-all-read', alice.headers)).status).toBe(200)
    const forAlice = (await (await get('/api/notifications', alice.headers)).json()) as {
      id: string
      isRead: boolean
    }[]
    expect(forAlice).toEqual([expect.objectContaining({ id: noteA, isRead: true })])
    const forBob = (await (await get('/api/notifications', bob.headers)).json()) as { isRead: boolean }[]
    expect(forBob[0]?.isRead).toBe(false)
    const forCarol = (await (await get('/api/notifications', carol.headers)).json()) as {
      id: string
      isRead: boolean
    }[]
    expect(forCarol).toEqual([expect.objectContaining({ id: noteB, isRead: false })])
    expect((await send('POST', `/api/notifications/${noteB}/mark-read`, alice.headers)).status).toBe(404)
    expect((await get('/api/notifications', ADMIN)).status).toBe(400)
  })
})
