import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEc2 } from '../../agent/src/ec2-transport'
import { memoryLog } from '../../agent/src/log'
import { createPlacementScores, type PlacementScoreReport } from '../../agent/src/placement-scores'
import { startFakeEc2, TEST_CREDENTIALS, type FakeEc2 } from '../fakes'
import { instantClock } from './support/clock'

const TYPES = ['m5.large', 'm5a.large', 'm6i.large']
const HOUR = 3_600_000
const credentials = { get: async () => ({ ...TEST_CREDENTIALS, expiresAt: null }) }

let fake: FakeEc2
let clock: ReturnType<typeof instantClock>

beforeEach(async () => {
  clock = instantClock()
  // One clock for both: the fake's 24 h allowance runs on the agent's time.
  fake = await startFakeEc2({ clock })
})
afterEach(() => fake.close())

function scores() {
  const log = memoryLog()
  const reports: PlacementScoreReport[] = []
  const ec2 = createEc2({ region: 'us-east-1', endpoint: fake.url, credentials, clock, log, dryRun: false })
  const p = createPlacementScores({ ec2, clock, log, region: 'us-east-1', report: (b) => reports.push(b) })
  return { p, log, reports }
}

describe('placement scores', () => {
  it('asks once per configuration every 6 h and reports each AZ by name, as the capacity moves', async () => {
    const { p, reports } = scores()
    expect(await p.ask(TYPES)).toBe('asked')
    expect(reports).toEqual([
      {
        region: 'us-east-1',
        instance_types: TYPES,
        status: 'ok',
        scores: [
          { az: 'us-east-1a', score: 10 },
          { az: 'us-east-1b', score: 10 },
          { az: 'us-east-1c', score: 10 },
        ],
      },
    ])
    // Every pricing round asks again; EC2 hears of it once per 6 h.
    for (let i = 0; i < 11; i++) {
      clock.advance(30 * 60_000)
      expect(await p.ask([...TYPES].reverse())).toBe('not_due')
    }
    expect(fake.count('GetSpotPlacementScores')).toBe(1)
    for (const type of TYPES) fake.setCapacity(type, 'us-east-1b', 0)
    clock.advance(HOUR)
    expect(await p.ask(TYPES)).toBe('asked')
    expect(fake.count('GetSpotPlacementScores')).toBe(2)
    expect(reports.at(-1)?.scores).toContainEqual({ az: 'us-east-1b', score: 1 })
    const sent = fake.requests.find((r) => r.action === 'GetSpotPlacementScores')!.params
    expect(sent).toMatchObject({
      TargetCapacity: '1',
      SingleAvailabilityZone: 'true',
      'RegionName.1': 'us-east-1',
      'InstanceType.1': 'm5.large',
    })
  })

  it('stops asking when the instance profile lacks the permission, says so once, and asks again after a day', async () => {
    const { p, log, reports } = scores()
    fake.deny('GetSpotPlacementScores')
    expect(await p.ask(TYPES)).toBe('denied')
    expect(p.isDenied).toBe(true)
    expect(reports).toEqual([
      expect.objectContaining({ status: 'denied', scores: [], instance_types: TYPES }),
    ])
    for (let i = 0; i < 47; i++) {
      clock.advance(30 * 60_000)
      expect(await p.ask(TYPES)).toBe('not_due')
    }
    expect(fake.count('GetSpotPlacementScores')).toBe(1)
    clock.advance(30 * 60_000)
    expect(await p.ask(TYPES)).toBe('denied')
    expect(fake.count('GetSpotPlacementScores')).toBe(2)
    // Said once: one report, one warning.
    expect(reports).toHaveLength(1)
    expect(log.lines.filter((l) => l.msg.startsWith('placement scores denied'))).toHaveLength(1)
    fake.allow('GetSpotPlacementScores')
    clock.advance(24 * HOUR)
    expect(await p.ask(TYPES)).toBe('asked')
    expect(p.isDenied).toBe(false)
    expect(reports.at(-1)).toMatchObject({ status: 'ok' })
  })

  it('waits a day when the account used its 10 configurations', async () => {
    const { p, reports } = scores()
    for (let n = 0; n < 10; n++) fake.state.placementConfigs.set(`other-${n}`, clock.now())
    expect(await p.ask(TYPES)).toBe('limited')
    expect(reports).toEqual([expect.objectContaining({ status: 'limited', scores: [] })])
    clock.advance(12 * HOUR)
    expect(await p.ask(TYPES)).toBe('not_due')
    clock.advance(12 * HOUR)
    expect(await p.ask(TYPES)).toBe('asked')
    expect(fake.count('GetSpotPlacementScores')).toBe(2)
  })

  it('does not ask for fewer than three types (AWS scores them low whatever the capacity)', async () => {
    const { p, reports } = scores()
    expect(await p.ask(['m5.large'])).toBe('too_few_types')
    expect(await p.ask(['m5.large', 'm5.large', 'm5a.large'])).toBe('too_few_types')
    expect(fake.count('GetSpotPlacementScores')).toBe(0)
    expect(reports).toEqual([])
  })
})
