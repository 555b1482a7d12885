import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { events, instances } from '../../../src/db/schema'
import { runContext, runForAgent } from '../../../src/flows/engine-tick/run'
import { db } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, loadAgent, reportPrices } from './market'

const HOUR = 3_600_000

describe("a decision's stored inputs", () => {
  it("keep each pool's lifetime evidence beside its risk: hours, 'inf' when none died, null without lives", async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.02, b: 0.0125, c: 0.013 })
    const now = Date.now()
    const owner = { clientId: a.client.id, agentId: a.agentId }
    const spot = (z: string, createdAt: number) => ({
      id: `ins-${type}-${z}`,
      ...owner,
      instanceId: `i-${type}-${z}`,
      instanceType: type,
      region: 'us-east-1',
      az: `us-east-1${z}`,
      mode: 'spot' as const,
      poolId: `${type}.us-east-1${z}`,
      status: 'active' as const,
      createdAt,
      updatedAt: createdAt,
    })
    // Pool a: one life of 6 h ended by a notice; pool b: one still running for 5 h; pool c: none.
    await db().batch([
      db()
        .insert(instances)
        .values(spot('a', now - 10 * HOUR)),
      db()
        .insert(instances)
        .values(spot('b', now - 5 * HOUR)),
    ])
    await db()
      .insert(events)
      .values({
        id: `evt-${type}-a`,
        ...owner,
        instanceId: `i-${type}-a`,
        poolId: `${type}.us-east-1a`,
        kind: 'termination_notice',
        receivedAt: now - 4 * HOUR,
      })

    const run = await runForAgent(env, db(), await loadAgent(a.agentId), await runContext(db()), now, {
      store: true,
      act: false,
    })
    const stored = (await decisionsOf(a.agentId)).find((d) => d.id === run.decisionId)!
    const pools = (stored.inputs as { pools: { pool_id: string; risk: number; mean_lifetime_h: unknown }[] })
      .pools
    const byZone = (z: string) => pools.find((p) => p.pool_id === `${type}.us-east-1${z}`)
    expect(byZone('a')).toMatchObject({ risk: expect.any(Number), mean_lifetime_h: 6 })
    expect(byZone('b')).toMatchObject({ risk: expect.any(Number), mean_lifetime_h: 'inf' })
    expect(byZone('c')).toMatchObject({ risk: expect.any(Number), mean_lifetime_h: null })
  })

  it('say of each pool its AZ and why the engine left it out: the current one, one interrupted minutes ago', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.02, b: 0.0125, c: 0.013 }, 'spot')
    const now = Date.now()
    await db()
      .insert(events)
      .values({
        id: `evt-${type}-b`,
        clientId: a.client.id,
        agentId: a.agentId,
        instanceId: 'i-elsewhere',
        poolId: `${type}.us-east-1b`,
        kind: 'termination_notice',
        receivedAt: now - 5 * 60_000,
      })
    const run = await runForAgent(env, db(), await loadAgent(a.agentId), await runContext(db()), now, {
      store: true,
      act: false,
    })
    const stored = (await decisionsOf(a.agentId)).find((d) => d.id === run.decisionId)!
    const pools = (stored.inputs as { pools: { pool_id: string; az: string; skipped: string | null }[] })
      .pools
    expect(new Map(pools.map((p) => [p.pool_id, [p.az, p.skipped]]))).toEqual(
      new Map([
        [`${type}.us-east-1a`, ['us-east-1a', 'current']],
        [`${type}.us-east-1b`, ['us-east-1b', 'recently_interrupted']],
        [`${type}.us-east-1c`, ['us-east-1c', null]],
      ]),
    )
  })
})
