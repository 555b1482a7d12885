/** A switch report without prices (the 5.x agent's, installed agents' sparse ones) is priced from history. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { ondemandPrices, spotPrices, switches } from '../../../src/db/schema'
import { onDemandPriceAt, switchMarketAt } from '../../../src/db/queries/prices-at'
import { paidPrice } from '../../../src/prices/paid'
import { agentOn, freshType } from '../engine/market'
import { ADMIN, call, db } from './helpers'

const H = 3_600_000

/** An agent on spot in pool a of a fresh type; pool a at $0.0128, pool b moved to $0.0143 an hour ago. */
async function pricedMarket(version: string) {
  const type = freshType()
  const agent = await agentOn(type, 'spot', version)
  const now = Date.now()
  const pool = (az: string) => `${type}.us-east-1${az}`
  await db()
    .insert(spotPrices)
    .values([
      { poolId: pool('a'), price: 0.0128, observedAt: now - 2 * H },
      { poolId: pool('b'), price: 0.015, observedAt: now - 3 * H },
      { poolId: pool('b'), price: 0.0143, observedAt: now - H },
      // A change point after the switch is not its price.
      { poolId: pool('b'), price: 0.02, observedAt: now + H },
    ])
  await db()
    .insert(ondemandPrices)
    .values({ instanceType: type, region: 'us-east-1', price: 0.0416, observedAt: now - 5 * H })
  return { agent, type, pool }
}

const newInstanceId = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`

describe('switch prices', () => {
  it('fill a 5.x manual switch reported without prices from the price history (record, history, page, CSV)', async () => {
    const { agent, type, pool } = await pricedMarket('5.0.0')
    const side = (instanceId: string, az: string) => ({
      instance_id: instanceId,
      instance_type: type,
      region: 'us-east-1',
      az: `us-east-1${az}`,
      ami_id: 'ami-1',
      mode: 'spot',
      pool_id: pool(az),
    })
    const target = newInstanceId()
    const report = await call(
      'POST',
      `/api/agents/${agent.agentId}/switch-report`,
      {
        command_id: `cmd_${crypto.randomUUID()}`,
        trigger: 'manual',
        old_instance: side(agent.instanceId, 'a'),
        new_instance: side(target, 'b'),
        snapshot: { used: true, ami_id: 'ami-2' },
        timing: { switch_initiated_at: new Date().toISOString() },
      },
      agent.client.auth,
    )
    expect(report.status).toBe(201)
    const [row] = await db().select().from(switches).where(eq(switches.agentId, agent.agentId))
    expect(row).toMatchObject({ oldPrice: 0.0128, newPrice: 0.0143, onDemandPrice: 0.0416 })

    const history = await call('GET', `/api/client/${agent.client.id}/switch-history`, undefined, ADMIN)
    expect(history.json[0]).toMatchObject({ price: 0.0143, onDemandPrice: 0.0416, savingsImpact: -0.0015 })
    const page = (await call('GET', `/c/${agent.client.id}/switches`, undefined, ADMIN)).text
    expect(page).toContain('$0.0143/h')
    expect(page).toContain('+$0.0015/h')
    const csv = (await call('GET', `/api/client/${agent.client.id}/export/switches.csv`, undefined, ADMIN))
      .text
    expect(csv).toContain(`,manual,0.0143,-0.0015,`)
  })

  it("fill an installed agent's report whose old side is unknown from the instance the control plane holds", async () => {
    const { agent, type } = await pricedMarket('4.0.0')
    const report = await call(
      'POST',
      `/api/agents/${agent.agentId}/switch-report`,
      {
        old_instance: {
          instance_id: agent.instanceId,
          instance_type: null,
          region: null,
          az: null,
          ami_id: null,
          mode: 'unknown',
          pool_id: null,
        },
        new_instance: {
          instance_id: newInstanceId(),
          instance_type: type,
          region: 'us-east-1',
          az: 'us-east-1c',
          ami_id: 'ami-1',
          mode: 'ondemand',
          pool_id: null,
        },
        snapshot: { used: false },
        prices: { on_demand: null, old_spot: 0.0, new_spot: null },
        trigger: 'manual',
      },
      agent.client.auth,
    )
    expect(report.status).toBe(201)
    const [row] = await db().select().from(switches).where(eq(switches.agentId, agent.agentId))
    expect(row).toMatchObject({
      oldMode: 'spot',
      oldPoolId: `${type}.us-east-1a`,
      oldPrice: 0.0128,
      newPrice: 0.0416,
      onDemandPrice: 0.0416,
    })
  })

  it('price a switch at a moment: each pool as a step function, on-demand of the type (what a promotion records)', async () => {
    const { agent, type, pool } = await pricedMarket('5.0.0')
    const now = Date.now()
    const market = (at: number, oldPoolId: string | null = pool('a')) =>
      switchMarketAt(
        db(),
        {
          clientId: agent.client.id,
          instanceType: type,
          region: 'us-east-1',
          oldPoolId,
          newPoolId: pool('b'),
        },
        at,
      )
    expect(await market(now)).toEqual({ onDemand: 0.0416, oldSpot: 0.0128, newSpot: 0.0143 })
    expect(await market(now - 2 * H)).toMatchObject({ newSpot: 0.015 })
    expect(await market(now - 4 * H)).toMatchObject({ newSpot: null })
    // Before the first on-demand report: the first one known (on-demand prices rarely move).
    expect(await onDemandPriceAt(db(), agent.client.id, type, 'us-east-1', now - 10 * H)).toBe(0.0416)
    // A side without a pool is not looked up; what a side paid follows its mode.
    const ondemandSide = await market(now, null)
    expect(ondemandSide.oldSpot).toBeNull()
    expect(paidPrice('ondemand', ondemandSide.oldSpot, ondemandSide.onDemand)).toBe(0.0416)
    expect(paidPrice('unknown', 0.0128, 0.0416)).toBeNull()
  })
})
