import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../src/engine/decide'
import { DEFAULT_PARAMS, effectiveThresholds, resolveParams } from '../../src/engine/params'
import { meanLifetimeHours, poolRisk, riskComponents } from '../../src/engine/risk'
import { relaunchedLifetimes } from '../../src/engine/stats'
import type { PoolQuote } from '../../src/engine/types'
import { NOW, poolQuote } from './arbitraries'

const OD = 0.0416
const HOUR = 3_600_000
const quote = (extra: Partial<PoolQuote> = {}): PoolQuote =>
  poolQuote('us-east-1a', 0.0125, {
    volatility24h: 0.05,
    trend1h: 0.02,
    interruptions30d: 2,
    rebalances30d: 3,
    rebalancesFollowed30d: 1,
    ...extra,
  })
const lived = (interruptedHours: number, censoredHours: number, interrupted: number) =>
  quote({
    livedHoursInterrupted30d: interruptedHours,
    livedHoursCensored30d: censoredHours,
    livesInterrupted30d: interrupted,
  })

describe('lifetime risk component', () => {
  it('is neutral without data: the risk is exactly that of the other components', () => {
    const withoutWeight = resolveParams({ weights: { lifetime: 0 } })
    const noData = quote()
    expect(meanLifetimeHours(noData)).toBeNull()
    expect(poolRisk(noData, OD, DEFAULT_PARAMS)).toBe(poolRisk(noData, OD, withoutWeight))
    // Interruption counts without any hour lived are not lifetime evidence either.
    const countsOnly = quote({ livesInterrupted30d: 3 })
    expect(poolRisk(countsOnly, OD, DEFAULT_PARAMS)).toBe(poolRisk(countsOnly, OD, withoutWeight))
  })

  it('fills the new keys of a version stored before they existed', () => {
    const old = resolveParams({ weights: { interruptions: 0.3, ratio: 0.4 }, interruptions_scale: 8 })
    expect(old.weights).toMatchObject({ interruptions: 0.3, ratio: 0.4, lifetime: 0.1 })
    expect(old.lifetime_scale_hours).toBe(168)
    expect(() => resolveParams({ lifetime_scale_hours: 0 })).toThrow()
  })

  it('estimates the mean lifetime from all hours lived over the lives that ended by interruption', () => {
    // Two lives of 20 h and 40 h ended by notices, one still running for 60 h: 120 h / 2.
    const pool = lived(60, 60, 2)
    expect(meanLifetimeHours(pool)).toBe(60)
    expect(riskComponents(pool, OD, DEFAULT_PARAMS).lifetime).toBeCloseTo(
      Math.exp(-60 / DEFAULT_PARAMS.lifetime_scale_hours),
      12,
    )
    expect(meanLifetimeHours(lived(0, 500, 0))).toBe(Number.POSITIVE_INFINITY)
    expect(riskComponents(lived(0, 500, 0), OD, DEFAULT_PARAMS).lifetime).toBe(0)
  })

  it('ranks a pool whose instances die young above one where they survive', () => {
    const dying = lived(12, 0, 6) // six lives of 2 h
    const surviving = lived(0, 700, 0)
    const noData = quote()
    expect(poolRisk(dying, OD, DEFAULT_PARAMS)).toBeGreaterThan(poolRisk(noData, OD, DEFAULT_PARAMS))
    expect(poolRisk(surviving, OD, DEFAULT_PARAMS)).toBeLessThan(poolRisk(noData, OD, DEFAULT_PARAMS))
    // More interruptions per hour lived means more risk.
    expect(poolRisk(lived(100, 0, 5), OD, DEFAULT_PARAMS)).toBeGreaterThan(
      poolRisk(lived(100, 0, 1), OD, DEFAULT_PARAMS),
    )
  })

  it('is monotonic: more interruptions over the same hours never lower risk, longer survival never raises it', () => {
    const hours = fc.double({ min: 0.01, max: 5000, noNaN: true })
    fc.assert(
      fc.property(
        hours,
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 1, max: 2000, noNaN: true }),
        (interruptedHours, censoredHours, n, more, longer, weight, scale) => {
          const params = resolveParams({ weights: { lifetime: weight }, lifetime_scale_hours: scale })
          const risk = (q: PoolQuote) => poolRisk(q, OD, params)
          const base = lived(interruptedHours, censoredHours, n)
          expect(risk(lived(interruptedHours, censoredHours, n + more))).toBeGreaterThanOrEqual(risk(base))
          expect(risk(lived(interruptedHours, censoredHours + longer, n))).toBeLessThanOrEqual(risk(base))
          expect(risk(base)).toBeGreaterThanOrEqual(0)
          expect(risk(base)).toBeLessThanOrEqual(1)
        },
      ),
    )
  })

  it('is named in the reasons of a decision that compares pools with lifetime data', () => {
    const d = decide(
      {
        now: NOW,
        agent: { enabled: true, online: true, commandInFlight: false },
        current: { mode: 'ondemand', poolId: null, since: NOW - 10 * HOUR },
        onDemandPrice: OD,
        pools: [lived(90, 30, 4)],
        switchTimes: [],
        thresholds: effectiveThresholds(DEFAULT_PARAMS),
      },
      DEFAULT_PARAMS,
    )
    expect(d.target).toEqual({ mode: 'spot', poolId: 't3.medium.us-east-1a' })
    expect(d.reasons).toContain(
      'pool t3.medium.us-east-1a: mean spot lifetime 30.0 h (4 interrupted, 120.0 h lived in 30 d)',
    )
  })
})

describe('relaunchedLifetimes (the backtest reading a trace)', () => {
  it('splits the window at the last interruption and sees nothing after now', () => {
    const from = NOW - 100 * HOUR
    const at = [NOW - 120 * HOUR, NOW - 70 * HOUR, NOW - 40 * HOUR, NOW + HOUR]
    expect(relaunchedLifetimes(at, from, NOW)).toEqual({
      livedHoursInterrupted30d: 60,
      livedHoursCensored30d: 40,
      livesInterrupted30d: 2,
    })
    expect(relaunchedLifetimes([], from, NOW)).toEqual({
      livedHoursInterrupted30d: 0,
      livedHoursCensored30d: 100,
      livesInterrupted30d: 0,
    })
  })
})
