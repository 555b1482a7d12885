/**
 * The replacement of an interrupted stateful workload (issue 15, item 3): its data volumes stay in its
 * AZ, so the control plane places it there (on-demand) before a spot pool elsewhere.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, replicas } from '../../../src/db/schema'
import { agentOn, freshType, reportPrices, ON_DEMAND } from '../engine/market'
import { call, db, type TestAgent } from './helpers'

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
})
