import { describe, expect, it } from 'vitest'
import {
  compareLedger,
  ledgerDivergences,
  LEDGER_LAG_MS,
  pricedFrom,
  unionMs,
} from '../../scripts/soak/ledger'
import type { D1Segment } from '../../scripts/soak/snapshot'
import { HOUR, MINUTE, NOW, T0, d1Agent, ec2Instance, emptyD1, healthy } from './world'

const POOL = 't3.medium.us-east-1a'

function segment(
  instanceId: string,
  role: D1Segment['role'],
  startedAt: number,
  endedAt: number | null,
): D1Segment {
  return {
    agentId: 'agt-1',
    instanceId,
    role,
    mode: 'spot',
    poolId: POOL,
    instanceType: 't3.medium',
    region: 'us-east-1',
    startedAt,
    endedAt,
  }
}

/** agent-1 priced from T0 + 1 min (registration), spot at $0.0125 all along, on-demand $0.0416. */
function pricedWorld() {
  const w = healthy()
  w.d1.spotPrices = [{ poolId: POOL, at: T0, price: 0.0125 }]
  w.d1.onDemandPrices = [{ instanceType: 't3.medium', region: 'us-east-1', at: T0, price: 0.0416 }]
  const from = T0 + MINUTE
  const to = NOW - LEDGER_LAG_MS
  return { ...w, from, to, hours: (to - from) / HOUR }
}

describe("the soak's ledger check (e)", () => {
  it('matches a ledger whose segments cover what EC2 ran, at the prices EC2 charged', () => {
    const { ec2, d1, from, to, hours } = pricedWorld()
    d1.segments = [segment('i-1', 'primary', from, null)]
    ec2.instances = [ec2Instance('i-1', { billed: hours * 0.0125, runningPeriods: [[T0, NOW]] })]

    const [line] = compareLedger(ec2, d1)

    expect(line).toMatchObject({ workload: 'agent-1', windowHours: (to - from) / HOUR })
    expect(line!.ledgerCost).toBeCloseTo(hours * 0.0125, 9)
    expect(line!.expectedBaseline).toBeCloseTo(hours * 0.0416, 9)
    expect(line!.errorPct).toBeLessThan(1e-6)
    expect(ledgerDivergences([line!], NOW, true)).toEqual([])
  })

  it('finds an overlap segment of an instance EC2 ended hours ago still charged', () => {
    const { ec2, d1, from, hours } = pricedWorld()
    const endedAt = T0 + 2 * HOUR
    d1.segments = [
      segment('i-0', 'primary', from, endedAt),
      segment('i-0', 'overlap', endedAt, null),
      segment('i-1', 'primary', endedAt, null),
    ]
    ec2.instances = [
      ec2Instance('i-0', {
        state: 'terminated',
        billed: ((endedAt - from) / HOUR) * 0.0125,
        runningPeriods: [[T0, endedAt]],
      }),
      ec2Instance('i-1', {
        billed: (hours - (endedAt - from) / HOUR) * 0.0125,
        runningPeriods: [[endedAt, NOW]],
      }),
    ]

    const lines = compareLedger(ec2, d1)
    expect(lines[0]!.errorPct).toBeGreaterThan(50)
    expect(ledgerDivergences(lines, NOW, false)).toEqual([
      expect.objectContaining({ invariant: 'e', workload: 'agent-1', subject: 'ledger' }),
    ])
  })

  it('judges a window shorter than 4 simulated hours only at the end', () => {
    const { ec2, d1 } = pricedWorld()
    ec2.at = T0 + 3 * HOUR
    d1.segments = [segment('i-1', 'primary', T0 + MINUTE, null)]
    ec2.instances = [ec2Instance('i-1', { billed: 1, runningPeriods: [[T0, ec2.at]] })]
    const lines = compareLedger(ec2, d1)
    expect(ledgerDivergences(lines, ec2.at, false)).toEqual([])
    expect(ledgerDivergences(lines, ec2.at, true)).toHaveLength(1)
  })

  it('starts where the control plane could first price the workload', () => {
    const d1 = emptyD1({
      agents: [d1Agent({ createdAt: T0 })],
      segments: [segment('i-1', 'primary', T0, null)],
      spotPrices: [{ poolId: POOL, at: T0 + 40_000, price: 0.01 }],
      onDemandPrices: [{ instanceType: 't3.medium', region: 'us-east-1', at: T0 + 25_000, price: 0.0416 }],
    })
    expect(pricedFrom(d1)).toEqual(new Map([['agent-1', T0 + 40_000]]))
  })

  it('measures the union of running periods once, whatever overlaps', () => {
    expect(
      unionMs(
        [
          [0, 10],
          [5, 20],
          [30, 40],
        ],
        0,
        100,
      ),
    ).toBe(30)
    expect(
      unionMs(
        [
          [0, 10],
          [5, 20],
          [30, 40],
        ],
        8,
        35,
      ),
    ).toBe(17)
    expect(unionMs([], 0, 100)).toBe(0)
  })
})
