/**
 * Capacity as a risk input, through D1: the placement scores a 5.x agent reports (per client), the
 * capacity errors of a switch's and a replica's launch, and the engine's decision that follows them.
 */
import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { capacityErrors, placementScores, placementScoreStatus } from '../../../src/db/schema'
import { loadMarket } from '../../../src/db/queries/market'
import { runContext, runForAgent } from '../../../src/flows/engine-tick/run'
import { eventually } from '../../support/eventually'
import { get, seedUser } from '../web/seed'
import { ADMIN, call, db, newClient, runCommand, tableCounts, type TestAgent } from '../agent-api/helpers'
import { DEFAULT_PARAMS } from '../../../src/engine/params'
import { poolRisk } from '../../../src/engine/risk'
import type { PoolQuote } from '../../../src/engine/types'
import { agentOn, freshType, loadAgent, ON_DEMAND, reportPrices } from './market'

const MIN = 60_000
const pool = (type: string, z: string) => `${type}.us-east-1${z}`

function reportScores(a: TestAgent, body: unknown) {
  return call('POST', `/api/agents/${a.agentId}/placement-scores`, body, a.client.auth)
}

const scoresBody = (types: string[], byZone: Record<'a' | 'b' | 'c', number>) => ({
  region: 'us-east-1',
  instance_types: types,
  status: 'ok',
  scores: (['a', 'b', 'c'] as const).map((z) => ({ az: `us-east-1${z}`, score: byZone[z] })),
})

/** The client's decision for `a` now (stored, not acted on). */
async function decisionOf(a: TestAgent, now = Date.now()) {
  const run = await runForAgent(env, db(), await loadAgent(a.agentId), await runContext(db()), now, {
    store: true,
    act: false,
  })
  return run.decision!
}

const quoteOf = async (a: TestAgent, type: string, z: string, now = Date.now()) =>
  (await loadMarket(db(), a.client.id, type, 'us-east-1', now)).pools.find((p) => p.poolId === pool(type, z))!

describe('placement scores', () => {
  it("store each priced type's pool of every AZ for the agent's client, and keep the engine out of a cheap pool with no capacity", async () => {
    const type = freshType()
    const types = [type, freshType(), freshType()]
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.0125, b: 0.014, c: 0.03 })
    const before = await decisionOf(a)
    expect(before.target).toMatchObject({ poolId: pool(type, 'a') })

    const res = await reportScores(a, scoresBody(types, { a: 1, b: 9, c: 8 }))
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ success: true, recorded_pools: 9, ignored_zones: [] })
    const rows = await db().select().from(placementScores).where(eq(placementScores.clientId, a.client.id))
    expect(rows).toHaveLength(9)
    expect(rows.find((r) => r.poolId === `${types[2]}.us-east-1a`)).toMatchObject({
      score: 1,
      agentId: a.agentId,
    })

    expect(await quoteOf(a, type, 'a')).toMatchObject({ placementScore: { score: 1 } })
    const after = await decisionOf(a)
    expect(after.target).toMatchObject({ poolId: pool(type, 'b') })
    expect(after.reasons).toContain(`pool ${pool(type, 'a')}: placement score 1/10 (0.0 h old)`)
  })

  it('are per client: another tenant neither sees them nor overwrites them', async () => {
    const type = freshType()
    const types = [type, freshType(), freshType()]
    const a = await agentOn(type, 'ondemand')
    const b = await agentOn(type, 'ondemand', '5.0.0', await newClient())
    for (const agent of [a, b]) await reportPrices(agent, type, { a: 0.0125, b: 0.014, c: 0.03 })
    expect((await reportScores(a, scoresBody(types, { a: 1, b: 9, c: 8 }))).status).toBe(200)

    expect((await quoteOf(b, type, 'a')).placementScore).toBeNull()
    expect((await decisionOf(b)).target).toMatchObject({ poolId: pool(type, 'a') })
    expect((await reportScores(b, scoresBody(types, { a: 10, b: 10, c: 10 }))).status).toBe(200)
    expect((await quoteOf(a, type, 'a')).placementScore).toMatchObject({ score: 1 })
    expect((await quoteOf(b, type, 'a')).placementScore).toMatchObject({ score: 10 })
  })

  it('fade out of the risk once stale: a day-old score leaves the risk to history', async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.0125, b: 0.014, c: 0.03 })
    await reportScores(a, scoresBody([type, freshType(), freshType()], { a: 1, b: 9, c: 8 }))
    const risk = (q: PoolQuote) => poolRisk(q, ON_DEMAND, DEFAULT_PARAMS)
    const fresh = await quoteOf(a, type, 'a')
    expect(risk(fresh)).toBeGreaterThan(DEFAULT_PARAMS.risk_threshold)
    const aged = await quoteOf(a, type, 'a', Date.now() + 25 * 60 * MIN)
    expect(aged.placementScore?.ageHours).toBeGreaterThan(24)
    expect(risk(aged)).toBe(risk({ ...aged, placementScore: null }))
  })

  it("record a denied agent's status, shown on its page, and nothing else", async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    const res = await reportScores(a, {
      region: 'us-east-1',
      instance_types: [type, freshType(), freshType()],
      status: 'denied',
      message:
        'GetSpotPlacementScores: UnauthorizedOperation: You are not authorized to perform this operation.',
      scores: [],
    })
    expect(res.status).toBe(200)
    const [status] = await db()
      .select()
      .from(placementScoreStatus)
      .where(eq(placementScoreStatus.agentId, a.agentId))
    expect(status).toMatchObject({
      clientId: a.client.id,
      status: 'denied',
      detail: expect.stringContaining('Unauthorized'),
    })
    expect(
      await db().select().from(placementScores).where(eq(placementScores.clientId, a.client.id)),
    ).toEqual([])
    const owner = await seedUser(a.client.id, 'owner')
    const page = await (await get(`/c/${a.client.id}/agents/${a.agentId}`, owner.headers)).text()
    expect(page).toContain('the instance profile of this agent lacks ec2:GetSpotPlacementScores')
    // Another client's owner cannot read it.
    const stranger = await seedUser((await newClient()).id, 'owner')
    expect(
      (await get(`/c/${a.client.id}/agents/${a.agentId}`, stranger.headers)).status,
    ).toBeGreaterThanOrEqual(400)
  })

  it('refuse bad input with a 400 and write nothing', async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    const good = scoresBody([type, freshType(), freshType()], { a: 1, b: 9, c: 8 })
    const before = await tableCounts()
    for (const bad of [
      { ...good, scores: [{ az: 'us-east-1a', score: 11 }] },
      { ...good, scores: [{ az: 'us-east-1a', score: 2.5 }] },
      { ...good, scores: [{ az: 'nowhere', score: 2 }] },
      { ...good, status: 'maybe' },
      { ...good, status: 'denied' },
      { ...good, instance_types: ['not a type'] },
      { ...good, instance_types: [] },
      { ...good, region: 'moon' },
      '{"region":',
    ]) {
      const res = await reportScores(a, bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
      expect(res.json).toMatchObject({ error: expect.any(String), code: expect.any(String) })
    }
    expect(await tableCounts()).toEqual(before)
  })
})

describe('capacity errors on launch', () => {
  it('of a switch count against its pool, from D1, after the short skip: the engine goes elsewhere and says why', async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.0125, b: 0.014, c: 0.03 })
    const queued = await call(
      'POST',
      `/api/client/instances/${a.instanceId}/force-switch`,
      { target: 'pool', pool_id: pool(type, 'a') },
      ADMIN,
    )
    expect(queued.status).toBe(200)
    const message =
      'switch failed: RunInstances: InsufficientInstanceCapacity: We currently do not have sufficient capacity in the Availability Zone you requested.'
    await runCommand(a, queued.json.command_id, a.instanceId, false, message)

    const [error] = await eventually(
      async () => {
        const rows = await db()
          .select()
          .from(capacityErrors)
          .where(and(eq(capacityErrors.clientId, a.client.id), eq(capacityErrors.poolId, pool(type, 'a'))))
        return rows.length > 0 ? rows : undefined
      },
      { what: "the switch's capacity error in D1", timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(error).toMatchObject({
      agentId: a.agentId,
      source: 'switch',
      id: `cap_switch_${queued.json.command_id}`,
    })
    // Past the 3-minute skip, the error still weighs: the risk, not the skip, keeps the engine away.
    const later = Date.now() + 10 * MIN
    expect(await quoteOf(a, type, 'a', later)).toMatchObject({ capacityErrors24h: 1 })
    const d = await decisionOf(a, later)
    expect(d.target).toMatchObject({ poolId: pool(type, 'b') })
    expect(d.reasons).toContain(`pool ${pool(type, 'a')}: 1 launch(es) failed for capacity in 24 h`)
    // Another client's market does not count it.
    const other = await agentOn(type, 'ondemand', '5.0.0', await newClient())
    await reportPrices(other, type, { a: 0.0125, b: 0.014, c: 0.03 })
    expect((await quoteOf(other, type, 'a', later)).capacityErrors24h).toBe(0)
  })

  it('of a replica count against its pool once, however often it is reported', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    const created = await call(
      'POST',
      `/api/agents/${a.agentId}/create-emergency-replica`,
      { signal_type: 'rebalance-recommendation', instance_id: a.instanceId },
      a.client.auth,
    )
    expect(created.status).toBe(201)
    const poolId = created.json.pool.id as string
    const fail = () =>
      call(
        'POST',
        `/api/agents/${a.agentId}/replicas/${created.json.replica_id}/status`,
        {
          status: 'failed',
          error_message: `RunInstances: InsufficientInstanceCapacity: no capacity in ${poolId}`,
        },
        a.client.auth,
      )
    expect((await fail()).status).toBeLessThan(300)
    expect((await fail()).status).toBeLessThan(500)
    const rows = await db().select().from(capacityErrors).where(eq(capacityErrors.clientId, a.client.id))
    expect(rows).toEqual([expect.objectContaining({ poolId, source: 'replica', agentId: a.agentId })])
    const z = poolId.slice(-1)
    expect(await quoteOf(a, type, z, Date.now() + 10 * MIN)).toMatchObject({ capacityErrors24h: 1 })
  })
})
