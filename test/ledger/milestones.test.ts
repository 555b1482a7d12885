import { describe, expect, it } from 'vitest'
import { milestoneToTell } from '../../src/ledger/milestones'

describe('savings milestones', () => {
  it('tells the highest milestone passed above every one already told, and nothing below $1', () => {
    expect(milestoneToTell(0.99, [])).toBeNull()
    expect(milestoneToTell(1, [])).toBe(1)
    expect(milestoneToTell(1_234, [])).toBe(1_000)
    expect(milestoneToTell(1_234, [10])).toBe(1_000)
    expect(milestoneToTell(1_234, [1_000])).toBeNull()
    // Savings recomputed lower never tell a lower milestone again.
    expect(milestoneToTell(50, [100])).toBeNull()
    expect(milestoneToTell(250_000, [1, 10, 100, 1_000, 10_000])).toBe(100_000)
  })
})
