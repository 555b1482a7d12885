import { describe, expect, it } from 'vitest'
import { decide } from '../../src/engine/decide'
import { effectiveThresholds, resolveParams, type EngineParams } from '../../src/engine/params'
import { meanPrice } from '../../src/engine/stats'
import type { EngineInput, PoolQuote } from '../../src/engine/types'
import { expectedPrice } from '../../src/engine/value'
import { NOW, poolQuote } from './arbitraries'

const HOUR = 3_600_000

/** On spot in pool b for 10 h, with `pools` (b among them). */
const onSpot = (pools: PoolQuote[], params: EngineParams): EngineInput => ({
  now: NOW,
  agent: { enabled: true, online: true, commandInFlight: false },
  current: { mode: 'spot', poolId: 't3.medium.us-east-1b', since: NOW - 10 * HOUR },
  onDemandPrice: 0.0416,
  pools,
  switchTimes: [],
  thresholds: effectiveThresholds(params),
})

describe('expected price', () => {
  it('leans on the 24 h mean by price_memory, and is the current price without a mean', () => {
    const pool = poolQuote('us-east-1a', 0.01, { mean24h: 0.014 })
    expect(expectedPrice(pool, resolveParams({ price_memory: 0 }))).toBe(0.01)
    expect(expectedPrice(pool, resolveParams({ price_memory: 0.5 }))).toBeCloseTo(0.012, 12)
    expect(expectedPrice(poolQuote('us-east-1a', 0.01), resolveParams({ price_memory: 0.5 }))).toBe(0.01)
  })

  it('keeps a workload from chasing a price that just dropped in a pool whose level is high', () => {
    const pools = [
      poolQuote('us-east-1a', 0.012, { mean24h: 0.02 }),
      poolQuote('us-east-1b', 0.015, { mean24h: 0.015 }),
    ]
    const forgetful = resolveParams({ price_memory: 0, min_savings_percent: 15 })
    expect(decide(onSpot(pools, forgetful), forgetful).decision).toBe('switch_pool')
    const remembers = resolveParams({ price_memory: 0.6, min_savings_percent: 15 })
    // expected 0.0168 in a against 0.015 in b: staying is the better value
    expect(decide(onSpot(pools, remembers), remembers)).toMatchObject({ decision: 'stay', reason_code: null })
  })

  it('is the time-weighted mean of a step function (meanPrice)', () => {
    const points = [
      { at: NOW - 30 * HOUR, price: 0.02 },
      { at: NOW - 6 * HOUR, price: 0.01 },
    ]
    // 18 h at 0.02, then 6 h at 0.01
    expect(meanPrice(points, NOW - 24 * HOUR, NOW)).toBeCloseTo((18 * 0.02 + 6 * 0.01) / 24, 12)
    expect(meanPrice([], NOW - 24 * HOUR, NOW)).toBeNull()
  })
})

describe('expected stay', () => {
  // a lasting 10 % saving: 0.0135 in a against 0.015 in b
  const pools = [poolQuote('us-east-1a', 0.0135), poolQuote('us-east-1b', 0.015)]

  it('a small lasting saving does not pay for its switch over the minimum stay alone', () => {
    const params = resolveParams({
      min_savings_percent: 5,
      expected_stay_hours: 0,
      min_pool_duration_hours: 2,
    })
    expect(decide(onSpot(pools, params), params).decision).toBe('stay')
  })

  it('pays for it over a longer expected stay', () => {
    const params = resolveParams({
      min_savings_percent: 5,
      expected_stay_hours: 24,
      switch_scarcity_percent: 0,
    })
    expect(decide(onSpot(pools, params), params)).toMatchObject({
      decision: 'switch_pool',
      reason_code: 'better_value',
      target: { poolId: 't3.medium.us-east-1a' },
    })
  })

  it('switch scarcity: each switch used this week raises the value a move must bring', () => {
    const params = resolveParams({
      min_savings_percent: 5,
      expected_stay_hours: 24,
      switch_scarcity_percent: 2,
    })
    const used = (n: number) => Array.from({ length: n }, (_, k) => NOW - (k + 1) * 20 * HOUR)
    expect(decide({ ...onSpot(pools, params), switchTimes: used(1) }, params).decision).toBe('switch_pool')
    expect(decide({ ...onSpot(pools, params), switchTimes: used(4) }, params)).toMatchObject({
      decision: 'stay',
      blocked_by: ['hysteresis'],
    })
  })
})
