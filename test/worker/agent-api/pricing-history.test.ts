/** The 5.x pricing report's `spot_history`: EC2's change points stored at EC2's own times. */
import { and, asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { priceQuotes, spotPrices } from '../../../src/db/schema'
import { call, db, newAgent, tableCounts, type TestAgent } from './helpers'

const POOL = 't3.medium.us-east-1a'
const MIN = 60_000

/** A 5.x agent of a fresh client on a t3.medium in us-east-1a. */
const newReporter = () => newAgent(undefined, { agent_version: '5.0.0' })

/** The 5.x body: the 4.0.0 report of one pool at `price`, and `history` (offsets from now in ms). */
function report(
  a: TestAgent,
  price: number,
  history: { pool_id?: string; at: number | string; price: number }[],
) {
  return {
    instance: {
      instance_id: a.instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot',
      pool_id: POOL,
    },
    pricing: {
      on_demand_price: 0.0416,
      current_spot_price: price,
      cheapest_pool: { pool_id: POOL, price },
      spot_pools: [{ pool_id: POOL, instance_type: 't3.medium', az: 'us-east-1a', price }],
      collected_at: new Date().toISOString(),
    },
    spot_history: history.map((p) => ({
      pool_id: p.pool_id ?? POOL,
      at: typeof p.at === 'string' ? p.at : new Date(p.at).toISOString(),
      price: p.price,
    })),
  }
}

function post(a: TestAgent, body: unknown) {
  return call('POST', `/api/agents/${a.agentId}/pricing-report`, body, a.client.auth)
}

/** The client's stored change points of POOL, in time order. */
async function storedPoints(clientId: string) {
  return db()
    .select({ at: spotPrices.observedAt, price: spotPrices.price })
    .from(spotPrices)
    .where(and(eq(spotPrices.poolId, POOL), eq(spotPrices.reportedByClientId, clientId)))
    .orderBy(asc(spotPrices.observedAt))
}

/**
 * Rows of the tables a pricing report writes (the engine that earlier reports started in the background
 * may still write its own tables).
 */
async function priceTableCounts() {
  const counts = await tableCounts()
  return ['pools', 'price_quotes', 'spot_prices', 'ondemand_prices'].map((t) => [t, counts[t]])
}

async function quoteOf(clientId: string) {
  const [row] = await db()
    .select()
    .from(priceQuotes)
    .where(and(eq(priceQuotes.series, POOL), eq(priceQuotes.clientId, clientId)))
  return row
}

describe('spot_history in the pricing report', () => {
  it("stores EC2's change points at EC2's times, not at receive time", async () => {
    const a = await newReporter()
    const now = Date.now()
    const points = [
      { at: now - 50 * MIN, price: 0.012 },
      { at: now - 20 * MIN, price: 0.015 },
      { at: now - 7 * MIN, price: 0.013 },
    ]
    const res = await post(a, report(a, 0.013, points))
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ spot_rows: 3, ignored_history: [] })
    // ISO text keeps milliseconds: the rows hold the very times EC2 gave.
    expect(await storedPoints(a.client.id)).toEqual(points)
    expect(await quoteOf(a.client.id)).toMatchObject({ price: 0.013, changedAt: now - 7 * MIN })
  })

  it('adds nothing for a repeated report, and puts a late point in its place', async () => {
    const a = await newReporter()
    const now = Date.now()
    const points = [
      { at: now - 50 * MIN, price: 0.012 },
      { at: now - 10 * MIN, price: 0.015 },
    ]
    expect((await post(a, report(a, 0.015, points))).status).toBe(200)
    const again = await post(a, report(a, 0.015, points))
    expect(again.json).toMatchObject({ spot_rows: 0 })
    // A point between the stored ones, and one repeating the price in force then (no change: not stored).
    const late = await post(
      a,
      report(a, 0.015, [
        { at: now - 30 * MIN, price: 0.02 },
        { at: now - 40 * MIN, price: 0.012 },
      ]),
    )
    expect(late.json).toMatchObject({ spot_rows: 1 })
    expect(await storedPoints(a.client.id)).toEqual([
      { at: now - 50 * MIN, price: 0.012 },
      { at: now - 30 * MIN, price: 0.02 },
      { at: now - 10 * MIN, price: 0.015 },
    ])
    // The quote stays on the newest change point.
    expect(await quoteOf(a.client.id)).toMatchObject({ price: 0.015, changedAt: now - 10 * MIN })
  })

  it('ignores points out of bounds or of another pool, each with its reason, and stores the rest', async () => {
    const a = await newReporter()
    const now = Date.now()
    const res = await post(
      a,
      report(a, 0.013, [
        { at: now + 60 * MIN, price: 0.5 },
        { at: now - 3 * 60 * MIN, price: 0.5 },
        { pool_id: 't3.medium.eu-west-1a', at: now - 5 * MIN, price: 0.5 },
        { pool_id: 'm5.large.us-east-1a', at: now - 5 * MIN, price: 0.5 },
        { at: now - 5 * MIN, price: 0.013 },
      ]),
    )
    expect(res.status).toBe(200)
    expect(res.json.spot_rows).toBe(1)
    expect(res.json.ignored_history.map((p: { reason: string }) => p.reason).sort()).toEqual([
      'in_future',
      'not_reportable',
      'not_reportable',
      'too_old',
    ])
    expect(await storedPoints(a.client.id)).toEqual([{ at: now - 5 * MIN, price: 0.013 }])
    const others = await db().select().from(spotPrices).where(eq(spotPrices.reportedByAgentId, a.agentId))
    expect(others.map((r) => r.poolId)).toEqual([POOL])
  })

  it.each([
    ['a time that is not ISO 8601', { at: 'yesterday', price: 0.01 }],
    ['a negative price', { at: new Date().toISOString(), price: -1 }],
    ['a price as text', { at: new Date().toISOString(), price: '0.01' }],
  ])('answers 400 for %s and writes nothing', async (_, point) => {
    const a = await newReporter()
    const body = { ...report(a, 0.013, []), spot_history: [{ pool_id: POOL, ...point }] }
    const before = await priceTableCounts()
    const res = await post(a, body)
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ code: 'VALIDATION' })
    expect(await priceTableCounts()).toEqual(before)
  })

  it('answers a report without history as before (no ignored_history)', async () => {
    const a = await newReporter()
    const { spot_history: _, ...legacy } = report(a, 0.013, [])
    const res = await post(a, legacy)
    expect(res.status).toBe(200)
    expect(res.json).not.toHaveProperty('ignored_history')
    expect(await storedPoints(a.client.id)).toEqual([{ at: expect.any(Number), price: 0.013 }])
  })
})
