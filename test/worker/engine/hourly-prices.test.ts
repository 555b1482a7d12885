import { describe, expect, it } from 'vitest'
import { loadMarket } from '../../../src/db/queries/market'
import { spotPrices } from '../../../src/db/schema'
import { db } from '../agent-api/helpers'
import { agentOn, freshType, reportPrices } from './market'

const HOUR = 3_600_000

describe("the engine's market", () => {
  it("carries each pool's mean price of each of the last 24 hours, oldest first, for gap persistence", async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.02, b: 0.012, c: 0.03 })
    const now = Date.now()
    const row = (price: number, observedAt: number) => ({
      poolId: `${type}.us-east-1b`,
      price,
      observedAt,
      reportedByClientId: a.client.id,
      reportedByAgentId: a.agentId,
    })
    // pool b: $0.03 from 3 h ago, $0.012 from 90 minutes ago (the report above confirms it now)
    await db()
      .insert(spotPrices)
      .values([row(0.03, now - 3 * HOUR), row(0.012, now - 1.5 * HOUR)])

    const market = await loadMarket(db(), a.client.id, type, 'us-east-1', now)
    const hourly = market.pools.find((p) => p.poolId === `${type}.us-east-1b`)!.hourly24h!
    expect(hourly).toHaveLength(24)
    expect(hourly.slice(0, 21)).toEqual(Array.from({ length: 21 }, () => null))
    expect(hourly[21]).toBeCloseTo(0.03, 6)
    expect(hourly[22]).toBeCloseTo(0.021, 6)
    expect(hourly[23]).toBeCloseTo(0.012, 4)
  })
})
