import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { flappingUntil } from '../../src/engine/back-to-spot'
import { decide } from '../../src/engine/decide'
import { DEFAULT_PARAMS, effectiveThresholds, resolveParams } from '../../src/engine/params'
import type { EngineInput } from '../../src/engine/types'
import { engineInput, NOW, poolQuote } from './arbitraries'

const MIN = 60_000
const HOUR = 60 * MIN

/** Pool a interrupted us 10 minutes ago; b and c priced a minute before `at`. */
const poolsAt = (at: number) => [
  poolQuote('us-east-1a', 0.012, {
    seenAt: at - MIN,
    lastInterruptionAt: NOW - 10 * MIN,
    interruptions30d: 1,
  }),
  poolQuote('us-east-1b', 0.0125, { seenAt: at - MIN }),
  poolQuote('us-east-1c', 0.03, { seenAt: at - MIN }),
]

/** On on-demand since 10 minutes ago, imposed by the interruption in pool a. */
const afterInterruption = (over: Partial<EngineInput> = {}): EngineInput => ({
  now: NOW,
  agent: { enabled: true, online: true, commandInFlight: false },
  current: { mode: 'ondemand', poolId: null, since: NOW - 10 * MIN, imposed: true },
  onDemandPrice: 0.0416,
  pools: poolsAt(over.now ?? NOW),
  switchTimes: [NOW - 30 * HOUR],
  spotExits: [NOW - 10 * MIN],
  thresholds: effectiveThresholds(DEFAULT_PARAMS),
  ...over,
})

describe('the way back to spot', () => {
  it('after an interruption left the workload on on-demand, goes back to the safest cheap pool with its own reason', () => {
    const d = decide(afterInterruption(), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'to_spot',
      reason_code: 'back_to_spot',
      target: { mode: 'spot', poolId: 't3.medium.us-east-1b' },
      blocked_by: [],
    })
    expect(d.reasons[0]).toMatch(/^back to spot: an interruption left the workload on on-demand at /)
  })

  it('a workload that never left spot moves to spot for a better value, not "back"', () => {
    const d = decide(
      afterInterruption({
        current: { mode: 'ondemand', poolId: null, since: NOW - 10 * HOUR },
        spotExits: [],
      }),
      DEFAULT_PARAMS,
    )
    expect(d).toMatchObject({ decision: 'to_spot', reason_code: 'better_value' })
    expect(d.reasons.join(' ')).not.toContain('back to spot')
  })

  it('also comes back after its own move to on-demand (a recorded exit, not imposed)', () => {
    const d = decide(
      afterInterruption({
        current: { mode: 'ondemand', poolId: null, since: NOW - 3 * HOUR },
        spotExits: [NOW - 3 * HOUR],
      }),
      DEFAULT_PARAMS,
    )
    expect(d).toMatchObject({ decision: 'to_spot', reason_code: 'back_to_spot' })
    expect(d.reasons[0]).toContain('the workload left spot for on-demand')
  })

  it('waits while no pool is safe: the interrupting pool is skipped, the others above the risk threshold', () => {
    const pools = [
      poolQuote('us-east-1a', 0.012, { lastInterruptionAt: NOW - 5 * MIN, interruptions30d: 1 }),
      poolQuote('us-east-1b', 0.04, { trend1h: 1.5, interruptions30d: 25 }),
    ]
    const d = decide(afterInterruption({ pools }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'stay', reason_code: null, blocked_by: [] })
    expect(d.reasons.join('; ')).toContain('not back to spot yet')
    // once the interruption is older than skip_after_interruption_minutes, pool a is safe again
    const later = decide(afterInterruption({ pools, now: NOW + 10 * MIN }), DEFAULT_PARAMS)
    expect(later).toMatchObject({
      decision: 'to_spot',
      reason_code: 'back_to_spot',
      target: { poolId: 't3.medium.us-east-1a' },
    })
  })

  it('holds to the weekly cap: the move back is named, and blocked', () => {
    const switchTimes = Array.from({ length: 10 }, (_, k) => NOW - (k + 1) * 14 * HOUR)
    const d = decide(afterInterruption({ switchTimes }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'stay', reason_code: 'back_to_spot', blocked_by: ['weekly_cap'] })
  })

  it('with the flapping budget spent (left spot twice within 6 h), stays on on-demand until the older exit is 6 h old', () => {
    const spotExits = [NOW - 10 * MIN, NOW - 4 * HOUR]
    const d = decide(afterInterruption({ spotExits }), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'stay',
      reason_code: 'back_to_spot',
      target: { poolId: 't3.medium.us-east-1b' },
      blocked_by: ['flapping_budget'],
    })
    expect(d.reasons.join('; ')).toContain(
      `flapping budget spent: left spot 2 times within 6 h; back to spot from ${new Date(NOW + 2 * HOUR).toISOString().replace('.000', '')}`,
    )
    const after = decide(afterInterruption({ spotExits, now: NOW + 2 * HOUR + MIN }), DEFAULT_PARAMS)
    expect(after).toMatchObject({ decision: 'to_spot', reason_code: 'back_to_spot', blocked_by: [] })
    // a looser budget lets it back at once
    const loose = resolveParams({ flap_max_spot_exits: 3 })
    expect(decide(afterInterruption({ spotExits }), loose).decision).toBe('to_spot')
  })

  it('never moves from on-demand to spot while the flapping budget is spent, in random markets', () => {
    let held = 0
    fc.assert(
      fc.property(engineInput, (input) => {
        const d = decide(input, DEFAULT_PARAMS)
        if (input.current.mode !== 'ondemand' || flappingUntil(input, DEFAULT_PARAMS) === null) return
        expect(d.decision).not.toBe('to_spot')
        if (d.blocked_by.includes('flapping_budget')) held++
      }),
      { numRuns: 2000, seed: 3 },
    )
    expect(held).toBeGreaterThan(10)
  })

  it('names leaving a pool above the risk threshold as its own reason', () => {
    const current = { mode: 'spot' as const, poolId: 't3.medium.us-east-1c', since: NOW - 10 * MIN }
    const pools = [poolQuote('us-east-1b', 0.0125), poolQuote('us-east-1c', 0.04, { trend1h: 1.5 })]
    const d = decide(afterInterruption({ current, pools, spotExits: [] }), DEFAULT_PARAMS)
    expect(d).toMatchObject({ decision: 'switch_pool', urgent: true, reason_code: 'risky_pool' })
  })
})

describe('flappingUntil', () => {
  const input = (spotExits: number[]) => afterInterruption({ spotExits })

  it('is null below the budget and when the older exits left the window', () => {
    expect(flappingUntil(input([NOW - HOUR]), DEFAULT_PARAMS)).toBeNull()
    expect(flappingUntil(input([NOW - HOUR, NOW - 7 * HOUR]), DEFAULT_PARAMS)).toBeNull()
  })

  it('frees the budget when the exit that filled it leaves the window (later exits do not count twice)', () => {
    const exits = [NOW - 5 * HOUR, NOW - HOUR, NOW - 3 * HOUR]
    expect(flappingUntil(input(exits), DEFAULT_PARAMS)).toBe(NOW - 3 * HOUR + 6 * HOUR)
    expect(flappingUntil(input(exits), resolveParams({ flap_max_spot_exits: 3 }))).toBe(NOW + HOUR)
  })
})
