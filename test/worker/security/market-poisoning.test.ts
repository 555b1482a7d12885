/**
 * Issue 12, finding 1: one tenant's market reports must not move another tenant's fleet. Each test
 * performs the attack through the agent API with installed 4.0.0 agents (their bodies answered 2xx)
 * and follows it to what the victim sees and what its engine decides.
 */
import { env } from 'cloudflare:test'
import { and, eq, like } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { pools, spotPrices } from '../../../src/db/schema'
import { loadMarket } from '../../../src/db/queries/market'
import type { PoolQuote } from '../../../src/engine/types'
import { runContext, runForAgent } from '../../../src/flows/engine-tick/run'
import { ADMIN, call, db, newAgent, newClient, type TestAgent } from '../agent-api/helpers'
import { freshType, loadAgent, reportPrices, setAgent, switchCommands } from '../engine/market'
import { vector } from '../agent-api/vectors'
import { newInstance, registerVerified } from './identity-documents'

const HONEST = { a: 0.02, b: 0.0125, c: 0.013 }

/** A new tenant's installed 4.0.0 agent of `type` in `us-east-1<az>`. */
const tenant = (type: string, mode: 'spot' | 'ondemand', az = 'a') =>
  newAgent(undefined, { instance_type: type, mode, agent_version: '4.0.0', az: `us-east-1${az}` })

/** A new tenant's 5.x agent of `type` in us-east-1a, verified by its signed identity document. */
async function verifiedTenant(type: string): Promise<TestAgent> {
  const client = await newClient()
  const instance = { ...newInstance(), instanceType: type }
  const agent = await registerVerified(client, instance)
  return { client: { ...client, auth: agent.auth }, agentId: agent.agentId, instanceId: instance.instanceId }
}

/** A pool quote's price and risk evidence (its volatility moves with the clock between two reads). */
const riskOf = (q: PoolQuote) => {
  const { volatility24h: _moves, trend1h: _alsoMoves, hourly24h: _hoursMove, mean24h, ...risk } = q
  // A time-weighted mean over a window that moved by the test's own run time: equal up to float rounding.
  return { ...risk, mean24h: mean24h === undefined ? undefined : Math.round(mean24h * 1e9) / 1e9 }
}

/** A termination notice of the agent's instance, answered below 500 (no replica: 409). */
async function sendNotice(a: TestAgent) {
  const res = await call(
    'POST',
    `/api/agents/${a.agentId}/termination-imminent`,
    {
      ...vector('terminationImminentV4'),
      instance_id: a.instanceId,
      termination_time: new Date(Date.now() + 120_000).toISOString(),
    },
    a.client.auth,
  )
  expect(res.status).toBeLessThan(500)
}

/** `rebalances` rebalance recommendations, a notice and a replica failed for capacity in `poolId`. */
async function floodPool(a: TestAgent, poolId: string, rebalances: number) {
  for (let r = 0; r < rebalances; r++) {
    const res = await call(
      'POST',
      `/api/agents/${a.agentId}/rebalance-recommendation`,
      { ...vector('rebalanceV4'), instance_id: a.instanceId },
      a.client.auth,
    )
    expect(res.status).toBeLessThan(300)
  }
  // The attacker's own setting: it may record manual replicas.
  await setAgent(a.agentId, { manualReplicaEnabled: true })
  const replica = await call('POST', `/api/agents/${a.agentId}/replicas`, { pool_id: poolId }, a.client.auth)
  expect(replica.status).toBeLessThan(300)
  const failed = await call(
    'POST',
    `/api/agents/${a.agentId}/replicas/${replica.json.replica_id}/status`,
    { status: 'failed', error_message: 'InsufficientInstanceCapacity' },
    a.client.auth,
  )
  expect(failed.status).toBeLessThan(300)
  await sendNotice(a)
}

/** The victim: on-demand, allowed to move now (4.0.0 opted in to automatic switches). */
async function victim(type: string, prices = HONEST) {
  const b = await tenant(type, 'ondemand')
  await reportPrices(b, type, prices)
  await setAgent(b.agentId, { minPoolDurationHours: 0, legacyAutoSwitchOptIn: true })
  return b
}

/** The engine's decision for the agent now, stored and acted on (a switch command when it moves). */
async function engineTick(a: TestAgent) {
  const run = await runForAgent(env, db(), await loadAgent(a.agentId), await runContext(db()), Date.now(), {
    store: true,
    act: true,
  })
  return run.decision
}

const pricingSeenBy = async (a: TestAgent) => {
  const res = await call('GET', `/api/client/instances/${a.instanceId}/pricing`, undefined, ADMIN)
  expect(res.status).toBe(200)
  return res.json as { pools: { id: string; price: number | null }[]; onDemand: { price: number | null } }
}

describe('market data poisoning across tenants', () => {
  it("tenant A's $0.0001 for a pool leaves tenant B's price, page and engine input unchanged; B is not sent there", async () => {
    const type = freshType()
    // A reports first (as it would every 5 minutes): B's honest report lands right after it.
    const a = await tenant(type, 'spot')
    // reportPrices throws unless the installed agent's body is answered 200.
    await reportPrices(a, type, { ...HONEST, c: 0.0001 })
    const b = await victim(type)

    const poolC = `${type}.us-east-1c`
    const seenByB = await pricingSeenBy(b)
    expect(seenByB.pools.find((p) => p.id === poolC)?.price).toBe(0.013)
    const history = await call('GET', `/api/client/instances/${b.instanceId}/price-history`, undefined, ADMIN)
    const chartC = history.json.series.pools.find((p: { id: string }) => p.id === poolC)
    expect(chartC.points.map((p: { price: number }) => p.price)).not.toContain(0.0001)
    const marketB = await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())
    expect(marketB.pools.find((p) => p.poolId === poolC)?.price).toBe(0.013)
    // A's own decisions run on what A reported.
    expect((await pricingSeenBy(a)).pools.find((p) => p.id === poolC)?.price).toBe(0.0001)

    const decision = await engineTick(b)
    expect(decision).toMatchObject({ decision: 'to_spot', target: { poolId: `${type}.us-east-1b` } })
    const [command] = await switchCommands(b.agentId)
    expect(command).toMatchObject({ targetMode: 'spot', targetPoolId: `${type}.us-east-1b` })
  })

  it("installed agents of three tenants flooding notices, rebalances and capacity errors for a pool leave the victim's engine input and decision unchanged", async () => {
    const type = freshType()
    // Pool b clearly cheapest: the victim goes there unless others' signals push it out.
    const b = await victim(type, { a: 0.02, b: 0.009, c: 0.013 })
    const poolB = `${type}.us-east-1b`
    const before = await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())
    for (let k = 0; k < 3; k++) await floodPool(await tenant(type, 'spot', 'b'), poolB, 4)

    const after = await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())
    expect(after.pools.map(riskOf)).toEqual(before.pools.map(riskOf))
    expect(after.pools.find((p) => p.poolId === poolB)).toMatchObject({
      interruptions30d: 0,
      rebalances30d: 0,
      lastInterruptionAt: null,
      lastCapacityErrorAt: null,
      livesInterrupted30d: 0,
    })
    const decision = await engineTick(b)
    expect(decision).toMatchObject({ decision: 'to_spot', target: { poolId: poolB } })
  })

  it("three verified tenants' interruption notices for a pool do count: the victim is kept out of it", async () => {
    const type = freshType()
    const b = await victim(type, { a: 0.009, b: 0.0125, c: 0.013 })
    const poolA = `${type}.us-east-1a`
    for (let k = 0; k < 3; k++) {
      const t = await verifiedTenant(type)
      await reportPrices(t, type, { a: 0.009, b: 0.0125, c: 0.013 })
      await sendNotice(t)
    }

    const quote = (await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())).pools.find(
      (p) => p.poolId === poolA,
    )
    expect(quote).toMatchObject({ interruptions30d: 3, lastInterruptionAt: expect.any(Number) })
    const decision = await engineTick(b)
    expect(decision).toMatchObject({ decision: 'to_spot', target: { poolId: `${type}.us-east-1b` } })
  })

  it("three clients agreeing move everyone's price to their median; an outlier among four is dropped", async () => {
    const type = freshType()
    const b = await victim(type)
    const poolC = `${type}.us-east-1c`
    const seenC = async () =>
      (await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())).pools.find(
        (p) => p.poolId === poolC,
      )?.price
    const reporters = []
    for (const c of [0.009, 0.011, 0.012]) {
      const r = await verifiedTenant(type)
      await reportPrices(r, type, { ...HONEST, c })
      reporters.push(r)
    }
    // Three verified tenants (B's own quote is an installed agent's: it feeds nobody else): 0.009, 0.011, 0.012 → 0.011.
    expect(await seenC()).toBe(0.011)
    await reportPrices(await verifiedTenant(type), type, { ...HONEST, c: 0.0001 })
    // 0.0001 lies beyond a factor 2 of the median (0.01): dropped; 0.009, 0.011, 0.012 remain.
    expect(await seenC()).toBe(0.011)
    // The reporters see the consensus too, not their own quote.
    expect((await pricingSeenBy(reporters[0]!)).pools.find((p) => p.id === poolC)?.price).toBe(0.011)
  })

  it('installed (unverified) agents of three other tenants agreeing on $0.0001 leave the victim its own price', async () => {
    const type = freshType()
    const b = await victim(type)
    for (let i = 0; i < 3; i++) await reportPrices(await tenant(type, 'spot'), type, { ...HONEST, c: 0.0001 })
    const market = await loadMarket(db(), b.client.id, type, 'us-east-1', Date.now())
    expect(market.pools.find((p) => p.poolId === `${type}.us-east-1c`)?.price).toBe(HONEST.c)
  })

  it('a report for another region or another instance type is answered 2xx and not stored', async () => {
    const type = freshType()
    const a = await tenant(type, 'spot')
    const foreign = [
      { pool_id: 'm5.large.us-east-1a', instance_type: 'm5.large', az: 'us-east-1a', price: 0.0001 },
      { pool_id: `${type}.eu-west-1a`, instance_type: type, az: 'eu-west-1a', price: 0.0001 },
      // A pool id naming another type than its instance_type field.
      { pool_id: `m5.large.us-east-1b`, instance_type: type, az: 'us-east-1b', price: 0.0001 },
    ]
    const own = { pool_id: `${type}.us-east-1a`, instance_type: type, az: 'us-east-1a', price: 0.02 }
    const res = await call(
      'POST',
      `/api/agents/${a.agentId}/pricing-report`,
      {
        instance: { instance_id: a.instanceId, instance_type: type, region: 'us-east-1', az: 'us-east-1a' },
        pricing: {
          on_demand_price: 0.0416,
          current_spot_price: 0.02,
          spot_pools: [own, ...foreign],
          collected_at: new Date().toISOString(),
        },
      },
      a.client.auth,
    )
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ success: true, spot_rows: 1 })
    expect([...res.json.ignored_pools].sort()).toEqual(
      [`${type}.eu-west-1a`, 'm5.large.us-east-1a', 'm5.large.us-east-1b'].sort(),
    )
    expect(res.json.ignored_reason).toContain(type)
    const stored = await db()
      .select({ poolId: spotPrices.poolId })
      .from(spotPrices)
      .where(eq(spotPrices.reportedByAgentId, a.agentId))
    expect(stored.map((r) => r.poolId)).toEqual([own.pool_id])
    const created = await db()
      .select({ id: pools.id })
      .from(pools)
      .where(and(like(pools.id, '%eu-west-1a'), eq(pools.instanceType, type)))
    expect(created).toEqual([])
  })
})
