import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../src/engine/decide'
import { capViolations } from '../../src/engine/backtest/simulate'
import { DEFAULT_PARAMS, effectiveThresholds, resolveParams } from '../../src/engine/params'
import type { EngineInput } from '../../src/engine/types'
import { engineInput, NOW, poolQuote } from './arbitraries'

const HOUR = 3_600_000
const base = (over: Partial<EngineInput> = {}): EngineInput => ({
  now: NOW,
  agent: { enabled: true, online: true, commandInFlight: false },
  current: { mode: 'ondemand', poolId: null, since: NOW - 10 * HOUR },
  onDemandPrice: 0.0416,
  pools: [poolQuote('us-east-1a', 0.0125), poolQuote('us-east-1b', 0.014)],
  switchTimes: [],
  thresholds: effectiveThresholds(DEFAULT_PARAMS),
  ...over,
})

describe('decide', () => {
  it('moves an on-demand workload to the cheapest safe pool, explaining why', () => {
    const d = decide(base(), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'to_spot',
      target: { mode: 'spot', poolId: 't3.medium.us-east-1a' },
      blocked_by: [],
    })
    expect(d.expected_savings_per_hour).toBeCloseTo(0.0416 - 0.0125, 6)
    expect(d.reasons.join(' ')).toContain('t3.medium.us-east-1a')
    expect(d.confidence).toBeGreaterThan(0.5)
  })

  it('prefers a safer pool over a slightly cheaper one that keeps interrupting', () => {
    const pools = [
      poolQuote('us-east-1a', 0.012, { interruptions30d: 20, volatility24h: 0.4 }),
      poolQuote('us-east-1b', 0.013),
    ]
    expect(decide(base({ pools }), DEFAULT_PARAMS).target?.poolId).toBe('t3.medium.us-east-1b')
  })

  it('stays in a pool when another is only a little cheaper (minimum savings)', () => {
    const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1b', since: NOW - 10 * HOUR }
    const pools = [poolQuote('us-east-1a', 0.027), poolQuote('us-east-1b', 0.03)]
    const thresholds = {
      ...effectiveThresholds(DEFAULT_PARAMS),
      min_pool_duration_hours: 6,
      risk_threshold: 0.9,
      min_savings_percent: 15,
    }
    const d = decide(base({ current, pools, thresholds }), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'stay',
      blocked_by: ['min_savings'],
      target: { poolId: 't3.medium.us-east-1a' },
    })
    const lenient = decide(
      base({ current, pools, thresholds: { ...thresholds, min_savings_percent: 5 } }),
      DEFAULT_PARAMS,
    )
    expect(lenient.decision).toBe('switch_pool')
  })

  it('leaves a spiking pool urgently, before the minimum stay is over', () => {
    const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1a', since: NOW - 10 * 60_000 }
    const pools = [poolQuote('us-east-1a', 0.04, { trend1h: 1.5 }), poolQuote('us-east-1b', 0.014)]
    const d = decide(base({ current, pools }), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'switch_pool',
      urgent: true,
      target: { poolId: 't3.medium.us-east-1b' },
    })
  })

  it('goes on-demand when every other pool is stale, skipped or too risky', () => {
    const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1a', since: NOW - 10 * 60_000 }
    const pools = [
      poolQuote('us-east-1a', 0.041, { trend1h: 1.5, interruptions30d: 30 }),
      poolQuote('us-east-1b', 0.012, { seenAt: NOW - 5 * HOUR }),
      poolQuote('us-east-1c', 0.012, { lastInterruptionAt: NOW - 60_000 }),
    ]
    const d = decide(base({ current, pools }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'to_ondemand', target: { mode: 'ondemand', poolId: null } })
    expect(d.reasons.join(' ')).toMatch(/stale.*|recently interrupted/)
  })

  it('names every guardrail that blocks a move', () => {
    const d = decide(
      base({
        agent: { enabled: true, online: false, commandInFlight: true },
        switchTimes: [NOW - 60_000, NOW - 2 * HOUR, NOW - 3 * HOUR],
      }),
      DEFAULT_PARAMS,
    )
    expect(d.decision).toBe('stay')
    expect(d.blocked_by).toEqual(['agent_offline', 'command_in_flight', 'cooldown', 'daily_cap'])
    expect(d.target?.poolId).toBe('t3.medium.us-east-1a')
  })

  it('does not hold an imposed placement to the minimum stay', () => {
    const since = NOW - 20 * 60_000
    expect(
      decide(base({ current: { mode: 'ondemand', poolId: null, since } }), DEFAULT_PARAMS).blocked_by,
    ).toEqual(['min_pool_duration'])
    expect(
      decide(base({ current: { mode: 'ondemand', poolId: null, since, imposed: true } }), DEFAULT_PARAMS)
        .decision,
    ).toBe('to_spot')
  })

  it('moves in a fair share of random markets (the properties are not vacuous)', () => {
    const samples = fc.sample(engineInput, { numRuns: 2000, seed: 7 })
    const moves = samples.filter((i) => decide(i, DEFAULT_PARAMS).decision !== 'stay').length
    expect(moves).toBeGreaterThan(50)
  })

  it('keeps within the rolling caps over a month of random prices', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.004, max: 0.05, noNaN: true }), {
          minLength: 3 * 400,
          maxLength: 3 * 400,
        }),
        (walk) => {
          const params = resolveParams({
            cooldown_minutes: 0,
            min_pool_duration_hours: 0,
            min_savings_percent: 0,
            hysteresis_percent: 0,
          })
          const thresholds = {
            ...effectiveThresholds(params),
            max_switches_per_day: 2,
            max_switches_per_week: 5,
          }
          let current: EngineInput['current'] = { mode: 'ondemand', poolId: null, since: NOW }
          const switchTimes: number[] = []
          for (let step = 0; step < 400; step++) {
            const now = NOW + step * 30 * 60_000
            const pools = ['a', 'b', 'c'].map((z, k) =>
              poolQuote(`us-east-1${z}`, walk[step * 3 + k]!, { seenAt: now }),
            )
            const d = decide(base({ now, current, pools, switchTimes: [...switchTimes], thresholds }), params)
            if (d.decision !== 'stay' && d.target)
              [current, switchTimes[switchTimes.length]] = [{ ...d.target, since: now }, now]
          }
          expect(switchTimes.length).toBeGreaterThan(5)
          expect(capViolations(switchTimes, { perDay: 2, perWeek: 5 })).toBe(0)
        },
      ),
      { numRuns: 30 },
    )
  })
})

describe('the switch reserve', () => {
  const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1b', since: NOW - 10 * HOUR }
  const pools = [poolQuote('us-east-1a', 0.012), poolQuote('us-east-1b', 0.02)]
  // 8 switches this week (the cap is 10), one in the last 24 h
  const switchTimes = Array.from({ length: 8 }, (_, k) => NOW - (k + 1) * 20 * HOUR)

  it('keeps the last switches of the week from a move between spot pools', () => {
    const d = decide(base({ current, pools, switchTimes }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'stay', blocked_by: ['switch_reserve'] })
    expect(decide(base({ current, pools, switchTimes: switchTimes.slice(1) }), DEFAULT_PARAMS).decision).toBe(
      'switch_pool',
    )
  })

  it('keeps the day’s last switch from a small move an interruption would strand on on-demand', () => {
    // 10 interruptions a month in the region: a 1 in 4 chance of one before the day's window frees
    const often = { interruptions30d: 10 }
    const small = [poolQuote('us-east-1a', 0.013, often), poolQuote('us-east-1b', 0.015, often)]
    const today = [NOW - 4 * HOUR, NOW - 6 * HOUR]
    expect(decide(base({ current, pools: small, switchTimes: today }), DEFAULT_PARAMS)).toMatchObject({
      decision: 'stay',
      target: { poolId: 't3.medium.us-east-1a' },
      blocked_by: ['switch_reserve'],
    })
    // with a switch of the day to spare, or a move worth the risk, it goes
    const spare = decide(base({ current, pools: small, switchTimes: today.slice(1) }), DEFAULT_PARAMS)
    expect(spare.decision).toBe('switch_pool')
    const large = [poolQuote('us-east-1a', 0.005, often), poolQuote('us-east-1b', 0.015, often)]
    expect(decide(base({ current, pools: large, switchTimes: today }), DEFAULT_PARAMS).decision).toBe(
      'switch_pool',
    )
    // a pool without interruptions of its own still carries the region's rate
    const quiet = [poolQuote('us-east-1a', 0.013), poolQuote('us-east-1b', 0.015, { interruptions30d: 20 })]
    expect(decide(base({ current, pools: quiet, switchTimes: today }), DEFAULT_PARAMS).blocked_by).toEqual([
      'switch_reserve',
    ])
  })

  it('spends them on coming back to spot and on leaving a pool that turned risky', () => {
    const onDemand = { mode: 'ondemand' as const, poolId: null, since: NOW - 10 * HOUR }
    expect(decide(base({ current: onDemand, pools, switchTimes }), DEFAULT_PARAMS).decision).toBe('to_spot')
    const spiking = [poolQuote('us-east-1a', 0.012), poolQuote('us-east-1b', 0.04, { trend1h: 1.5 })]
    expect(decide(base({ current, pools: spiking, switchTimes }), DEFAULT_PARAMS)).toMatchObject({
      decision: 'switch_pool',
      urgent: true,
    })
  })
})

describe('a gap between spot pools', () => {
  const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1b', since: NOW - 30 * HOUR }
  // the last 24 hourly means, oldest first: the target cheaper only in the last `hours` of them
  const cheaperFor = (hours: number) =>
    Array.from({ length: 24 }, (_, h) => (h >= 24 - hours ? 0.012 : 0.024))
  const steady = Array.from({ length: 24 }, () => 0.02)
  const market = (hours: number, extra = {}) => [
    poolQuote('us-east-1a', 0.012, { hourly24h: cheaperFor(hours) }),
    poolQuote('us-east-1b', 0.02, { hourly24h: steady, ...extra }),
  ]

  it('holds a move to a pool cheaper for only the last hour of the day, and makes one whose gap lasted', () => {
    const brief = decide(base({ current, pools: market(1) }), DEFAULT_PARAMS)
    expect(brief).toMatchObject({
      decision: 'stay',
      target: { poolId: 't3.medium.us-east-1a' },
      reason_code: 'better_value',
      blocked_by: ['gap_not_lasting'],
    })
    expect(brief.reasons).toContain(
      'pool t3.medium.us-east-1a was cheaper than pool t3.medium.us-east-1b in 1 of the last 24 h',
    )
    const lasting = decide(base({ current, pools: market(3) }), DEFAULT_PARAMS)
    expect(lasting).toMatchObject({ decision: 'switch_pool', blocked_by: [] })
    expect(lasting.reasons).toContain(
      'pool t3.medium.us-east-1a was cheaper than pool t3.medium.us-east-1b in 3 of the last 24 h',
    )
    // a share of 0 is the rule off
    const off = resolveParams({ gap_persistence_share: 0 })
    expect(decide(base({ current, pools: market(1) }), off).decision).toBe('switch_pool')
  })

  it('does not hold leaving a pool that turned risky, nor a pool without hourly prices', () => {
    const spiking = decide(base({ current, pools: market(1, { trend1h: 1.5, price: 0.04 }) }), DEFAULT_PARAMS)
    expect(spiking).toMatchObject({ decision: 'switch_pool', urgent: true })
    const unknown = [poolQuote('us-east-1a', 0.012), poolQuote('us-east-1b', 0.02)]
    expect(decide(base({ current, pools: unknown }), DEFAULT_PARAMS).decision).toBe('switch_pool')
  })

  it('may spend the week’s reserved switches, down to the last, on a saving of at least half the price', () => {
    const pools = [poolQuote('us-east-1a', 0.008), poolQuote('us-east-1b', 0.02)]
    for (const used of [8, 9]) {
      const switchTimes = Array.from({ length: used }, (_, k) => NOW - (k + 1) * 17 * HOUR)
      const d = decide(base({ current, pools, switchTimes }), DEFAULT_PARAMS)
      expect(d).toMatchObject({ decision: 'switch_pool', target: { poolId: 't3.medium.us-east-1a' } })
      expect(d.reasons).toContain("spends the week's reserved switches: a 60.0 % saving (at least 50 %)")
    }
    // the cap itself still holds
    const full = Array.from({ length: 10 }, (_, k) => NOW - (k + 1) * 16 * HOUR)
    expect(decide(base({ current, pools, switchTimes: full }), DEFAULT_PARAMS).blocked_by).toEqual([
      'weekly_cap',
    ])
  })
})
