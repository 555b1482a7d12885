import { describe, expect, it } from 'vitest'
import { capacityEvidence, scoreStrength } from '../../src/engine/capacity'
import { decide } from '../../src/engine/decide'
import { DEFAULT_PARAMS, effectiveThresholds } from '../../src/engine/params'
import { poolRisk } from '../../src/engine/risk'
import { withRiskWeights } from '../../src/engine/risk-weights'
import type { EngineInput } from '../../src/engine/types'
import { NOW, poolQuote } from './arbitraries'

const HOUR = 3_600_000
const OD = 0.0416
const input = (over: Partial<EngineInput> = {}): EngineInput => ({
  now: NOW,
  agent: { enabled: true, online: true, commandInFlight: false },
  current: { mode: 'ondemand', poolId: null, since: NOW - 10 * HOUR },
  onDemandPrice: OD,
  pools: [],
  switchTimes: [],
  thresholds: effectiveThresholds(DEFAULT_PARAMS),
  ...over,
})

describe('capacity in the risk', () => {
  it('does not choose a cheap pool with no capacity, and says why', () => {
    const trap = poolQuote('us-east-1a', 0.0125, { placementScore: { score: 1, ageHours: 1 } })
    const roomy = poolQuote('us-east-1b', 0.014, { placementScore: { score: 9, ageHours: 1 } })
    const d = decide(input({ pools: [trap, roomy] }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'to_spot', target: { poolId: 't3.medium.us-east-1b' } })
    expect(d.reasons).toContain('1 pool(s) skipped: above risk threshold')
    expect(d.reasons).toContain('pool t3.medium.us-east-1a: placement score 1/10 (1.0 h old)')
    // Without the score the cheap pool wins: the score alone kept the engine out of the trap.
    const blind = decide(
      input({
        pools: [
          { ...trap, placementScore: null },
          { ...roomy, placementScore: null },
        ],
      }),
      DEFAULT_PARAMS,
    )
    expect(blind.target?.poolId).toBe('t3.medium.us-east-1a')
  })

  it('rises as the score falls; a pool without capacity evidence keeps the risk history gives it', () => {
    const risk = (score: number | null) =>
      poolRisk(
        poolQuote('us-east-1a', 0.02, {
          interruptions30d: 2,
          placementScore: score === null ? null : { score, ageHours: 2 },
        }),
        OD,
        DEFAULT_PARAMS,
      )
    expect(risk(2)).toBeGreaterThan(risk(5))
    expect(risk(5)).toBeGreaterThan(risk(10))
    const noWeight = withRiskWeights(DEFAULT_PARAMS, { capacity: 0 })
    const history = poolRisk(poolQuote('us-east-1a', 0.02, { interruptions30d: 2 }), OD, noWeight)
    expect(risk(null)).toBe(history)
    expect(risk(null)).toBe(
      poolRisk(poolQuote('us-east-1a', 0.02, { interruptions30d: 2 }), OD, DEFAULT_PARAMS),
    )
  })

  it('fades a score out after 12 h: gone at 24 h', () => {
    expect(scoreStrength(6)).toBe(1)
    expect(scoreStrength(12)).toBe(1)
    expect(scoreStrength(18)).toBeCloseTo(0.5, 9)
    expect(scoreStrength(24)).toBe(0)
    const at = (ageHours: number) =>
      poolRisk(
        poolQuote('us-east-1a', 0.0125, { placementScore: { score: 1, ageHours } }),
        OD,
        DEFAULT_PARAMS,
      )
    const none = poolRisk(poolQuote('us-east-1a', 0.0125), OD, DEFAULT_PARAMS)
    expect(at(6)).toBeGreaterThan(DEFAULT_PARAMS.risk_threshold)
    expect(at(18)).toBeLessThan(at(6))
    expect(at(18)).toBeGreaterThan(none)
    expect(at(30)).toBe(none)
  })

  it('counts capacity errors on launch against the pool, even without a score', () => {
    const failed = poolQuote('us-east-1a', 0.0125, { capacityErrors24h: 2 })
    expect(capacityEvidence(failed)).toMatchObject({ strength: 1 })
    expect(poolRisk(failed, OD, DEFAULT_PARAMS)).toBeGreaterThan(DEFAULT_PARAMS.risk_threshold)
    const d = decide(input({ pools: [failed, poolQuote('us-east-1b', 0.014)] }), DEFAULT_PARAMS)
    expect(d.target?.poolId).toBe('t3.medium.us-east-1b')
    expect(d.reasons).toContain('pool t3.medium.us-east-1a: 2 launch(es) failed for capacity in 24 h')
  })

  it("follows the client's capacity weight: 0 ignores the scores", () => {
    const trap = poolQuote('us-east-1a', 0.0125, { placementScore: { score: 1, ageHours: 1 } })
    const mine = withRiskWeights(DEFAULT_PARAMS, { capacity: 0 })
    expect(poolRisk(trap, OD, mine)).toBeLessThan(0.05)
    expect(decide(input({ pools: [trap, poolQuote('us-east-1b', 0.014)] }), mine).target?.poolId).toBe(
      't3.medium.us-east-1a',
    )
  })
})
