import { describe, expect, it } from 'vitest'
import { noticeLatency } from '../../scripts/soak/sustain'
import { T0, emptyD1 } from './world'

describe('keeping up with the simulated clock', () => {
  it('measures notice → control plane in simulated seconds, and counts notices it never heard', () => {
    const notice = (instanceId: string, sentAt: number) => ({
      workload: 'agent-1',
      instanceId,
      sentAt,
      terminationAt: sentAt + 120_000,
    })
    const heard = (instanceId: string, receivedAt: number) => ({
      agentId: 'agt-1',
      instanceId,
      kind: 'termination_notice',
      action: null,
      receivedAt,
    })
    const d1 = emptyD1({
      events: [
        heard('i-1', T0 + 4_000),
        heard('i-2', T0 + 40_000),
        { ...heard('i-3', T0), kind: 'rebalance' },
      ],
    })

    expect(noticeLatency([notice('i-1', T0), notice('i-2', T0), notice('i-3', T0)], d1)).toEqual({
      p50_s: 40,
      max_s: 40,
      unheard: 1,
    })
    expect(noticeLatency([], d1)).toEqual({ p50_s: null, max_s: null, unheard: 0 })
  })
})
