import { describe, expect, it } from 'vitest'
import type { PriceBook, Segment } from '../../src/ledger/cost'
import { dailySavings, savingsBetween } from '../../src/ledger/rollup'
import type { PricePoint } from '../../src/ledger/series'
import { summarize } from '../../src/ledger/summary'

const H = 3_600_000
const T0 = Date.UTC(2026, 2, 10) // 10 March 2026, 00:00 UTC

function book(
  spot: Record<string, PricePoint[]>,
  onDemand: PricePoint[] = [{ at: 0, price: 0.04 }],
): PriceBook {
  return { spot: (pool) => spot[pool] ?? [], onDemand: () => onDemand }
}
const seg = (over: Partial<Segment>): Segment => ({
  instanceId: 'i-1',
  role: 'primary',
  mode: 'spot',
  poolId: 'a',
  instanceType: 't3.medium',
  region: 'us-east-1',
  startedAt: T0,
  endedAt: T0 + 4 * H,
  ...over,
})

describe('savings ledger', () => {
  it('prices a primary segment from the step function of its pool', () => {
    const prices = book({
      a: [
        { at: T0 - H, price: 0.01 },
        { at: T0 + H, price: 0.02 },
      ],
    })
    const s = savingsBetween([seg({ endedAt: T0 + 3 * H })], prices, T0, T0 + 24 * H, T0 + 24 * H)
    expect(s.primary).toBeCloseTo(0.01 + 2 * 0.02, 12)
    expect(s.baseline).toBeCloseTo(3 * 0.04, 12)
    expect(s.savings).toBeCloseTo(0.12 - 0.05, 12)
  })

  it('counts a switch: old primary, new on-demand primary and the overlap until termination', () => {
    const segments = [
      seg({ endedAt: T0 + 2 * H }),
      seg({ instanceId: 'i-2', mode: 'ondemand', poolId: null, startedAt: T0 + 2 * H, endedAt: T0 + 4 * H }),
      seg({ role: 'overlap', startedAt: T0 + 2 * H, endedAt: T0 + 2.5 * H }),
    ]
    const s = savingsBetween(segments, book({ a: [{ at: T0, price: 0.01 }] }), T0, T0 + 24 * H, T0 + 24 * H)
    expect(s.primary).toBeCloseTo(2 * 0.01 + 2 * 0.04, 12)
    expect(s.overlap).toBeCloseTo(0.5 * 0.01, 12)
    expect(s.baseline).toBeCloseTo(4 * 0.04, 12) // the workload's 4 hours, once
    expect(s.savings).toBeCloseTo(0.16 - 0.105, 12)
  })

  it('charges a replica from its launch to its end against savings', () => {
    const segments = [
      seg({}),
      seg({ instanceId: 'i-r', role: 'replica', poolId: 'b', startedAt: T0 + H, endedAt: T0 + 3 * H }),
    ]
    const s = savingsBetween(
      segments,
      book({ a: [{ at: T0, price: 0.01 }], b: [{ at: T0, price: 0.015 }] }),
      T0,
      T0 + 24 * H,
      T0 + 24 * H,
    )
    expect(s).toMatchObject({
      replica: expect.closeTo(0.03, 12),
      primary: expect.closeTo(0.04, 12),
      baseline: expect.closeTo(0.16, 12),
    })
    expect(s.savings).toBeCloseTo(0.16 - 0.07, 12)
  })

  it('carries the last price across a gap up to the cap, then charges on-demand', () => {
    const D = 24 * H
    const prices = book({
      a: [
        { at: T0, price: 0.01 },
        { at: T0 + 10 * D, price: 0.02 },
      ],
    })
    const s = savingsBetween([seg({ endedAt: T0 + 10 * D + H })], prices, T0, T0 + 11 * D, T0 + 11 * D)
    expect(s.primary).toBeCloseTo(7 * 24 * 0.01 + 3 * 24 * 0.04 + 0.02, 9)
    expect(s.unpricedMs).toBe(3 * D)
  })

  it('ends an open segment at now', () => {
    const s = savingsBetween(
      [seg({ endedAt: null })],
      book({ a: [{ at: T0, price: 0.01 }] }),
      T0,
      T0 + 24 * H,
      T0 + 90 * 60_000,
    )
    expect(s.primary).toBeCloseTo(0.015, 12)
    expect(s.baseline).toBeCloseTo(0.06, 12)
  })

  it('splits days and months at UTC midnight and projects the month from its first usage', () => {
    const start = Date.UTC(2026, 0, 31, 22)
    const now = Date.UTC(2026, 1, 1, 3)
    const rows = dailySavings(
      [seg({ startedAt: start, endedAt: null })],
      book({ a: [{ at: start, price: 0.01 }] }),
      '2026-01-31',
      now,
    )
    expect(rows.map((r) => r.day)).toEqual(['2026-01-31', '2026-02-01'])
    expect(rows[0]).toMatchObject({ baseline: expect.closeTo(0.08, 12), primary: expect.closeTo(0.02, 12) })
    expect(rows[1]).toMatchObject({ baseline: expect.closeTo(0.12, 12), primary: expect.closeTo(0.03, 12) })
    const summary = summarize(rows, now)
    expect(summary.month_to_date).toEqual({ baseline: 0.12, cost: 0.03, savings: 0.09, percent_saved: 75 })
    expect(summary.lifetime).toEqual({ baseline: 0.2, cost: 0.05, savings: 0.15, percent_saved: 75 })
    expect(summary.projected_month.savings).toBeCloseTo(0.09 * ((28 * 24) / 3), 6)
  })
})
