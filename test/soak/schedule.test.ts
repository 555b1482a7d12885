import { describe, expect, it } from 'vitest'
import { AvailabilityTracker, lostWorkloads, uncoveredMs } from '../../scripts/soak/availability'
import { buildSchedule } from '../../scripts/soak/schedule'
import { HOUR, MINUTE, T0 } from './world'

const day = { seed: 7, hours: 24, agents: 10, zones: 3, injectDivergence: false }

describe("the soak's schedule", () => {
  it('replays the same events for the same seed, and others for another seed', () => {
    expect(buildSchedule(day)).toEqual(buildSchedule(day))
    expect(buildSchedule({ ...day, seed: 8 })).not.toEqual(buildSchedule(day))
  })

  it('gives a 24-hour run at least 3 interruptions, 5 rebalances, 1 kill and exactly 1 restart, between quiet ends', () => {
    for (const seed of [1, 2, 3, 42, 99]) {
      const events = buildSchedule({ ...day, seed })
      const count = (kind: string) => events.filter((e) => e.kind === kind).length
      expect(count('interrupt')).toBeGreaterThanOrEqual(3)
      expect(count('rebalance')).toBeGreaterThanOrEqual(5)
      expect(count('kill')).toBeGreaterThanOrEqual(1)
      expect(count('restart')).toBe(1)
      expect(count('capacity')).toBeGreaterThanOrEqual(1)
      expect(count('inject')).toBe(0)
      for (const e of events) expect(e.atMs).toBeGreaterThanOrEqual(0)
      expect(Math.max(...events.map((e) => e.atMs))).toBeLessThanOrEqual(24 * HOUR - 30 * MINUTE)
      expect(events.map((e) => e.atMs)).toEqual([...events.map((e) => e.atMs)].sort((a, b) => a - b))
    }
  })

  it('warns some interruptions with a rebalance of the same workload 5 to 30 minutes before', () => {
    const events = buildSchedule({ ...day, hours: 240 })
    const warned = events.filter(
      (e) =>
        e.kind === 'interrupt' &&
        events.some(
          (r) =>
            r.kind === 'rebalance' &&
            r.workload === e.workload &&
            e.atMs - r.atMs >= 5 * MINUTE &&
            e.atMs - r.atMs <= 30 * MINUTE,
        ),
    )
    const interruptions = events.filter((e) => e.kind === 'interrupt').length
    expect(warned.length).toBeGreaterThan(0)
    expect(warned.length).toBeLessThan(interruptions)
  })

  it('injects the divergence only when asked, 10 minutes before the check of mid-run, where nothing else disturbs it', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const events = buildSchedule({ ...day, seed, hours: 2, agents: 2, injectDivergence: true })
      const [inject, ...more] = events.filter((e) => e.kind === 'inject')
      expect(more).toEqual([])
      expect(inject).toMatchObject({ atMs: HOUR - 10 * MINUTE })
      const near = (e: (typeof events)[number]) =>
        e.atMs >= HOUR - 30 * MINUTE && e.atMs <= HOUR + 30 * MINUTE
      const disturbing = events.filter(
        (e) =>
          near(e) &&
          (e.kind === 'restart' ||
            ((e.kind === 'interrupt' || e.kind === 'kill') && e.workload === inject!.workload)),
      )
      expect(disturbing).toEqual([])
      expect(events.filter((e) => e.kind === 'restart')).toHaveLength(1)
      expect(Math.max(...events.map((e) => e.atMs))).toBeLessThan(2 * HOUR)
    }
  })
})

describe('lost workloads', () => {
  it('counts a workload down for more than 5 minutes outside the failover of a notice it got', () => {
    const tracker = new AvailabilityTracker()
    tracker.observe(
      T0,
      new Map([
        ['agent-1', true],
        ['agent-2', true],
        ['agent-3', true],
      ]),
    )
    tracker.observe(
      T0 + HOUR,
      new Map([
        ['agent-1', false],
        ['agent-2', false],
        ['agent-3', false],
      ]),
    )
    tracker.observe(
      T0 + HOUR + 4 * MINUTE,
      new Map([
        ['agent-1', true],
        ['agent-2', false],
        ['agent-3', false],
      ]),
    )
    tracker.observe(
      T0 + HOUR + 12 * MINUTE,
      new Map([
        ['agent-1', true],
        ['agent-2', true],
        ['agent-3', false],
      ]),
    )
    // agent-3 got a notice: its outage is inside the failover until 10 minutes after the termination time.
    const notices = [
      { workload: 'agent-3', instanceId: 'i-3', sentAt: T0 + HOUR - 2 * MINUTE, terminationAt: T0 + HOUR },
    ]

    expect(
      lostWorkloads(tracker.outagesUntil(T0 + HOUR + 14 * MINUTE), notices, T0 + HOUR + 14 * MINUTE),
    ).toEqual(['agent-2'])
    expect(
      lostWorkloads(tracker.outagesUntil(T0 + HOUR + 16 * MINUTE), notices, T0 + HOUR + 16 * MINUTE),
    ).toEqual(['agent-2', 'agent-3'])
  })

  it('measures the time a span spends outside windows', () => {
    expect(uncoveredMs([0, 100], [])).toBe(100)
    expect(
      uncoveredMs(
        [0, 100],
        [
          [10, 20],
          [15, 30],
          [90, 200],
        ],
      ),
    ).toBe(70)
    expect(uncoveredMs([50, 60], [[0, 100]])).toBe(0)
  })
})
