import { describe, expect, it } from 'vitest'
import {
  MAX_POOLS,
  MAX_STEPS,
  stepMinutesFor,
  traceFromHistory,
  type StoredHistory,
} from '../../src/engine/backtest/history'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 5, 1)

function history(over: Partial<StoredHistory> = {}): StoredHistory {
  return {
    instanceType: 'm5.large',
    onDemand: 0.096,
    from: T0,
    to: T0 + 2 * HOUR,
    pools: [
      { poolId: 'm5.large.us-east-1b', az: 'us-east-1b' },
      { poolId: 'm5.large.us-east-1a', az: 'us-east-1a' },
    ],
    prices: [],
    events: [],
    ...over,
  }
}

describe('trace from stored history', () => {
  it('carries the price held at the window start and steps each pool as a step function to `to`', () => {
    const built = traceFromHistory(
      history({
        prices: [
          { poolId: 'm5.large.us-east-1a', price: 0.03, at: T0 - 5 * DAY },
          { poolId: 'm5.large.us-east-1a', price: 0.04, at: T0 + HOUR },
          { poolId: 'm5.large.us-east-1b', price: 0.05, at: T0 + 30 * 60_000 },
        ],
      }),
    )
    if (!built.ok) throw new Error('expected a trace')
    const t = built.trace
    expect([t.start, t.stepMs, t.steps]).toEqual([T0, 300_000, 24])
    expect(t.pools.map((p) => p.az)).toEqual(['us-east-1a', 'us-east-1b'])
    expect([t.prices[0]![0], t.prices[0]![11], t.prices[0]![12], t.prices[0]![23]]).toEqual([
      0.03, 0.03, 0.04, 0.04,
    ])
    expect(Number.isNaN(t.prices[1]![5]!)).toBe(true)
    expect(t.prices[1]![6]).toBe(0.05)
  })

  it('starts at the first known price and drops events outside the trace and in unknown AZs', () => {
    const built = traceFromHistory(
      history({
        from: T0 - DAY,
        prices: [
          { poolId: 'm5.large.us-east-1a', price: 0.03, at: T0 + 7 * 60_000 },
          { poolId: 'm5.large.us-east-1b', price: 0.03, at: T0 + HOUR },
        ],
        events: [
          { kind: 'interruption', az: 'us-east-1a', at: T0 - HOUR },
          { kind: 'rebalance', az: 'us-east-1a', at: T0 + HOUR },
          { kind: 'interruption', az: 'us-east-1z', at: T0 + HOUR },
          { kind: 'interruption', az: 'us-east-1b', at: T0 + 30 * 60_000 },
        ],
      }),
    )
    if (!built.ok) throw new Error('expected a trace')
    expect(built.trace.start).toBe(T0 + 10 * 60_000)
    expect(built.trace.prices[0]![0]).toBe(0.03) // the first price holds at step 0
    expect(built.trace.events.map((e) => [e.kind, e.az])).toEqual([
      ['interruption', 'us-east-1b'],
      ['rebalance', 'us-east-1a'],
    ])
  })

  it('refuses fewer than two price points, counting only the kept pools', () => {
    expect(traceFromHistory(history())).toEqual({
      ok: false,
      reason: 'not_enough_history',
      pricePoints: 0,
      pools: 2,
    })
    const one = traceFromHistory(
      history({
        prices: [
          { poolId: 'm5.large.us-east-1a', price: 0.03, at: T0 },
          { poolId: 'elsewhere', price: 0.03, at: T0 },
        ],
      }),
    )
    expect(one).toMatchObject({ ok: false, pricePoints: 1 })
  })

  it('bounds the work: coarser steps for long windows, at most MAX_POOLS pools', () => {
    expect(stepMinutesFor(30 * DAY)).toBe(5)
    expect(stepMinutesFor(45 * DAY)).toBe(10)
    expect(stepMinutesFor(90 * DAY)).toBe(15)
    const azs = Array.from({ length: MAX_POOLS + 3 }, (_, k) => `us-east-1${String.fromCharCode(97 + k)}`)
    const built = traceFromHistory(
      history({
        from: T0 - 90 * DAY,
        to: T0,
        pools: azs.map((az) => ({ poolId: `p.${az}`, az })),
        prices: azs.map((az) => ({ poolId: `p.${az}`, price: 0.02, at: T0 - 100 * DAY })),
      }),
    )
    if (!built.ok) throw new Error('expected a trace')
    expect(built.trace.pools).toHaveLength(MAX_POOLS)
    expect(built.trace.steps).toBe(MAX_STEPS)
    expect(built.trace.stepMs).toBe(15 * 60_000)
  })
})
