import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../src/engine/decide'
import { DAY_MS, switchesWithin, WEEK_MS } from '../../src/engine/guardrails'
import { poolRisk } from '../../src/engine/risk'
import type { EngineInput } from '../../src/engine/types'
import { moveValue } from '../../src/engine/value'
import { engineInput, params } from './arbitraries'

const runs = { numRuns: 2000 }
const isMove = (d: ReturnType<typeof decide>) => d.decision !== 'stay'

describe('decide (properties)', () => {
  it('gives a disabled agent nothing', () => {
    fc.assert(
      fc.property(engineInput, params, (input, p) => {
        const d = decide({ ...input, agent: { ...input.agent, enabled: false } }, p)
        expect(d).toMatchObject({ decision: 'stay', target: null, blocked_by: ['agent_disabled'] })
      }),
      runs,
    )
  })

  it('never switches during a cooldown', () => {
    fc.assert(
      fc.property(engineInput, params, fc.integer({ min: 0, max: 10_000 }), (input, p, ago) => {
        fc.pre(ago < p.cooldown_minutes * 60_000)
        const d = decide({ ...input, switchTimes: [...input.switchTimes, input.now - ago] }, p)
        expect(d.decision).toBe('stay')
      }),
      runs,
    )
  })

  it('never switches beyond the daily or weekly cap', () => {
    fc.assert(
      fc.property(engineInput, params, (input, p) => {
        const d = decide(input, p)
        if (!isMove(d)) return
        expect(switchesWithin(input.switchTimes, input.now, DAY_MS)).toBeLessThan(
          input.thresholds.max_switches_per_day,
        )
        expect(switchesWithin(input.switchTimes, input.now, WEEK_MS)).toBeLessThan(
          input.thresholds.max_switches_per_week,
        )
      }),
      runs,
    )
  })

  it('never picks the current pool, a stale-priced pool or an excluded zone', () => {
    fc.assert(
      fc.property(engineInput, params, fc.boolean(), (input, p, excludeFirst) => {
        const excludedZones = excludeFirst ? [input.pools[0]!.az] : []
        const d = decide({ ...input, excludedZones }, p)
        if (!isMove(d) || d.target?.mode !== 'spot') return
        expect(d.target.poolId).not.toBe(input.current.poolId)
        const quote = input.pools.find((q) => q.poolId === d.target?.poolId)!
        expect(input.now - quote.seenAt).toBeLessThanOrEqual(p.price_fresh_minutes * 60_000)
        expect(excludedZones).not.toContain(quote.az)
        expect(poolRisk(quote, input.onDemandPrice, p)).toBeLessThanOrEqual(input.thresholds.risk_threshold)
      }),
      runs,
    )
  })

  it('holds hysteresis: a non-urgent move clears the margin, and never flips straight back', () => {
    fc.assert(
      fc.property(engineInput, params, (input, p) => {
        const d = decide(input, p)
        if (!isMove(d) || !d.target) return
        if (!d.urgent) {
          const here =
            input.current.mode === 'spot'
              ? input.pools.find((q) => q.poolId === input.current.poolId)!.price
              : input.onDemandPrice
          expect(d.expected_savings_per_hour / here).toBeGreaterThanOrEqual(
            input.thresholds.min_savings_percent / 100 - 1e-9,
          )
        }
        const moved: EngineInput = {
          ...input,
          current: { ...d.target, since: input.now - 100 * 3_600_000 },
          switchTimes: [],
          thresholds: { ...input.thresholds, max_switches_per_day: 99, max_switches_per_week: 99 },
        }
        const back = decide(moved, { ...p, cooldown_minutes: 0 })
        if (isMove(back))
          expect(back.target).not.toEqual({ mode: input.current.mode, poolId: input.current.poolId })
      }),
      runs,
    )
  })

  it('blocks a move whose value is within the hysteresis margin', () => {
    fc.assert(
      fc.property(engineInput, params, (input, p) => {
        const d = decide(input, p)
        if (!isMove(d) || d.urgent || !d.target) return
        const quote = (id: string | null) => input.pools.find((q) => q.poolId === id)
        const asCandidate = (mode: 'spot' | 'ondemand', id: string | null) => {
          const q = mode === 'spot' ? quote(id)! : null
          return {
            placement: { mode, poolId: id },
            price: q?.price ?? input.onDemandPrice,
            risk: q ? poolRisk(q, input.onDemandPrice, p) : 0,
            quote: q,
          }
        }
        const from = asCandidate(input.current.mode, input.current.poolId)
        const value = moveValue(
          from,
          asCandidate(d.target.mode, d.target.poolId),
          input.onDemandPrice,
          p,
          input.thresholds,
        )
        expect(value).toBeGreaterThanOrEqual((p.hysteresis_percent / 100) * from.price - 1e-12)
      }),
      runs,
    )
  })
})
