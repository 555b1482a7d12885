import { describe, expect, it } from 'vitest'
import { OrphanClock } from '../../scripts/soak/orphans'
import { HOUR, MINUTE, T0 } from './world'

describe('orphan instance-hours', () => {
  it('counts an orphan from the check before (or its launch + grace when younger) to each check that finds it', () => {
    const clock = new OrphanClock()
    const young = { instanceId: 'i-young', launchTime: T0 + HOUR - 20 * MINUTE }
    const old = { instanceId: 'i-old', launchTime: T0 - 10 * HOUR }
    clock.accrue(T0, [])
    clock.accrue(T0 + HOUR, [young, old])
    // i-young: from its launch + 5 minutes; i-old: from the previous check, not from its launch.
    expect(clock.totalMs).toBe(15 * MINUTE + HOUR)
    clock.accrue(T0 + 2 * HOUR, [young])
    expect(clock.totalMs).toBe(15 * MINUTE + 2 * HOUR)
    clock.accrue(T0 + 3 * HOUR, [])
    expect(clock.totalMs).toBe(15 * MINUTE + 2 * HOUR)
  })
})
