/**
 * The replacement of an interrupted stateful workload (issue 15, item 3): its data volumes stay in its
 * AZ, so the control plane places it there (spot of another type the workload may run on, then
 * on-demand) before a spot pool elsewhere.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, replicas } from '../../../src/db/schema'
import { agentOn, freshType, reportPrices, ON_DEMAND } from '../engine/market'
import { call, db, newAgent, type TestAgent } from './helpers'

const base = (a: TestAgent) => `/api/agents/${a.agentId}`

/** A spot agent in pool a of a priced market (b the cheapest other pool), stateful or not. */
async function spotAgent(stateful: boolean) {
  const type = freshType()
  const a = await agentOn(type, 'spot')
  await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
  await db().update(agents).set({ stateful }).where(eq(agents.id, a.agentId))
  return { a, type }
}

/** termination-imminent → 409, then create-emergency-replica as a 5.x agent asks (a stateful one excludes no zone). */
async function noticeWithoutReplica(a: TestAgent, excludeZones: string[]) {
  const termination_time = new Date(Date.now() + 120_000).toISOString()
  const body = { instance_id: a.instanceId, termination_time, detected_at: new Date().toISOString() }
  expect((await call('POST', `${base(a)}/termination-imminent`, body, a.client.auth)).status).toBe(409)
  const created = await call(
    'POST',
    `${base(a)}/create-emergency-replica`,
    {
      signal_type: 'termination-notice',
      instance_id: a.instanceId,
      termination_time,
      exclude_zones: excludeZones,
    },
    a.client.auth,
  )
  expect(created.status).toBe(201)
  return created.json as { replica_id: string; mode: string; pool: { id: string } }
}

/** A failed launch of the replica, as the agent reports EC2's refusal. */
async function refused(a: TestAgent, replicaId: string) {
  const res = await call(
    'POST',
    `${base(a)}/replicas/${replicaId}/status`,
    { status: 'failed', error_message: 'RunInstances: InsufficientInstanceCapacity' },
    a.client.auth,
  )
  expect(res.status).toBe(200)
}

/** A stateful 5.x agent on spot m5.large in us-east-1a, its report pricing m6a.large (which it may run on) too. */
async function statefulM5WithM6a() {
  const a = await newAgent(undefined, {
    instance_type: 'm5.large',
    mode: 'spot',
    agent_version: '5.0.0',
    az: 'us-east-1a',
  })
  await db().update(agents).set({ stateful: true }).where(eq(agents.id, a.agentId))
  const pool = (type: string, z: string, price: number) => ({
    pool_id: `${type}.us-east-1${z}`,
    instance_type: type,
    az: `us-east-1${z}`,
    price,
  })
  const res = await call(
    'POST',
    `${base(a)}/pricing-report`,
    {
      instance: {
        instance_id: a.instanceId,
        instance_type: 'm5.large',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        pool_id: 'm5.large.us-east-1a',
      },
      pricing: {
        on_demand_price: 0.096,
        current_spot_price: 0.04,
        cheapest_pool: null,
        spot_pools: [
          pool('m5.large', 'a', 0.04),
          pool('m5.large', 'b', 0.038),
          pool('m5.large', 'c', 0.045),
          pool('m6a.large', 'a', 0.036),
          pool('m6a.large', 'b', 0.03),
        ],
        collected_at: new Date().toISOString(),
      },
      spot_history: [],
      on_demand_prices: [{ instance_type: 'm6a.large', price: 0.0864 }],
    },
    a.client.auth,
  )
  expect(res.status).toBe(200)
  return a
}

const launchOrders = (agentId: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, 'create_replica')))
    .orderBy(commands.createdAt)

describe('the replacement of an interrupted stateful workload', () => {
  it('goes on-demand in its own AZ first, then to the safest spot pool elsewhere when that has no capacity', async () => {
    const { a, type } = await spotAgent(true)
    const created = await noticeWithoutReplica(a, [])
    expect(created).toMatchObject({ mode: 'ondemand', pool: { id: `${type}.us-east-1a` } })
    const [first] = await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))
    expect(first).toMatchObject({ mode: 'ondemand', az: 'us-east-1a', hourlyCost: ON_DEMAND })

    const failed = await call(
      'POST',
      `${base(a)}/replicas/${created.replica_id}/status`,
      { status: 'failed', error_message: 'RunInstances: InsufficientInstanceCapacity' },
      a.client.auth,
    )
    expect(failed.status).toBe(200)
    const next = (await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))).find(
      (r) => r.status === 'launching',
    )
    expect(next).toMatchObject({ mode: 'spot', poolId: `${type}.us-east-1b` })
    expect((await launchOrders(a.agentId)).map((c) => [c.targetMode, c.targetPoolId])).toEqual([
      ['ondemand', `${type}.us-east-1a`],
      ['spot', `${type}.us-east-1b`],
    ])
  })

  it('of a stateless workload still goes to the safest spot pool of another AZ', async () => {
    const { a, type } = await spotAgent(false)
    expect(await noticeWithoutReplica(a, ['us-east-1a'])).toMatchObject({
      mode: 'spot',
      pool: { id: `${type}.us-east-1b` },
    })
  })

  it('tries spot of another allowed type in its own AZ, then on-demand there, and only then spot elsewhere', async () => {
    const a = await statefulM5WithM6a()
    // The cheapest pool is m6a.large in us-east-1b, but the data volumes are in us-east-1a.
    const created = await noticeWithoutReplica(a, [])
    expect(created).toMatchObject({ mode: 'spot', pool: { id: 'm6a.large.us-east-1a' } })
    const [first] = await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))
    expect(first).toMatchObject({ instanceType: 'm6a.large', az: 'us-east-1a', hourlyCost: 0.036 })
    await refused(a, created.replica_id)
    const second = (await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))).find(
      (r) => r.status === 'launching',
    )!
    expect(second).toMatchObject({ mode: 'ondemand', az: 'us-east-1a' })
    await refused(a, second.id)
    expect((await launchOrders(a.agentId)).map((c) => [c.targetMode, c.targetPoolId])).toEqual([
      ['spot', 'm6a.large.us-east-1a'],
      ['ondemand', 'm5.large.us-east-1a'],
      ['spot', 'm5.large.us-east-1b'],
    ])
  })
})
