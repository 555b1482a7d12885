import { describe, expect, it } from 'vitest'
import { DEFAULT_PARAMS } from '../../src/engine/params'
import { poolRisk } from '../../src/engine/risk'
import { unusableWeights, withRiskWeights } from '../../src/engine/risk-weights'
import { poolQuote } from './arbitraries'

const interrupted = poolQuote('us-east-1b', 0.0125, { volatility24h: 0, interruptions30d: 10 })

describe("a client's risk weights", () => {
  it('replace only the components the client set, and change the risk the engine computes', () => {
    expect(withRiskWeights(DEFAULT_PARAMS, {})).toBe(DEFAULT_PARAMS)
    const mine = withRiskWeights(DEFAULT_PARAMS, { interruptions: 0 })
    expect(mine.weights).toEqual({ ...DEFAULT_PARAMS.weights, interruptions: 0 })
    expect(mine.risk_threshold).toBe(DEFAULT_PARAMS.risk_threshold)
    expect(poolRisk(interrupted, 0.0416, DEFAULT_PARAMS)).toBeGreaterThan(0.1)
    expect(poolRisk(interrupted, 0.0416, mine)).toBeLessThan(0.001)
  })

  it('are unusable when every component but lifetime and capacity weighs nothing', () => {
    const zero = { interruptions: 0, rebalances: 0, followThrough: 0, volatility: 0, trend: 0, ratio: 0 }
    expect(unusableWeights({ ...zero, lifetime: 1, capacity: 0 })).toMatch(/at least one/)
    // Capacity weighs only where a pool has a score or a capacity error: alone it would leave most pools riskless.
    expect(unusableWeights({ ...zero, lifetime: 0, capacity: 1 })).toMatch(/at least one/)
    expect(unusableWeights({ ...zero, trend: 0.01, lifetime: 0, capacity: 0 })).toBeNull()
  })
})
