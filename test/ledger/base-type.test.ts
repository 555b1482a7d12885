import { describe, expect, it } from 'vitest'
import type { PriceBook, Segment } from '../../src/ledger/cost'
import { savingsBetween } from '../../src/ledger/rollup'

const H = 3_600_000
const T0 = Date.UTC(2026, 11, 7)
const OD: Record<string, number> = { 'm5.large': 0.096, 'm6a.large': 0.0864 }

const book: PriceBook = {
  spot: (pool) =>
    pool === 'm6a.large.us-east-1b' ? [{ at: T0 - H, price: 0.02 }] : [{ at: T0 - H, price: 0.04 }],
  onDemand: (type) => (OD[type] === undefined ? [] : [{ at: 0, price: OD[type]! }]),
}

describe('the baseline of a workload that changed instance type', () => {
  it("stays the base type's on-demand price while the new type runs at its own pool's price", () => {
    const segments: Segment[] = [
      {
        instanceId: 'i-old',
        role: 'primary',
        mode: 'spot',
        poolId: 'm5.large.us-east-1a',
        instanceType: 'm5.large',
        region: 'us-east-1',
        startedAt: T0,
        endedAt: T0 + 2 * H,
        baselineType: 'm5.large',
      },
      {
        instanceId: 'i-new',
        role: 'primary',
        mode: 'spot',
        poolId: 'm6a.large.us-east-1b',
        instanceType: 'm6a.large',
        region: 'us-east-1',
        startedAt: T0 + 2 * H,
        endedAt: T0 + 4 * H,
        baselineType: 'm5.large',
      },
    ]
    const s = savingsBetween(segments, book, T0, T0 + 24 * H, T0 + 24 * H)
    expect(s.primary).toBeCloseTo(2 * 0.04 + 2 * 0.02, 12)
    expect(s.baseline).toBeCloseTo(4 * 0.096, 12)
    expect(s.savings).toBeCloseTo(4 * 0.096 - 0.12, 12)
  })
})
