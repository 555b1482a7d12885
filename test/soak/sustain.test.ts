import { describe, expect, it } from 'vitest'
import { keptUp, noticeLatency } from '../../scripts/soak/sustain'
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

  it('says the run did not keep up when notices reached the control plane after the agent gave up on it, or this process stalled', () => {
    expect(keptUp({ p50_s: 4.9, max_s: 40, unheard: 0 }, 300)).toBe(true)
    expect(keptUp({ p50_s: null, max_s: null, unheard: 2 }, 300)).toBe(true)
    expect(keptUp({ p50_s: 33, max_s: 44, unheard: 0 }, 300)).toBe(false)
    expect(keptUp({ p50_s: 4.9, max_s: 40, unheard: 0 }, 1_500)).toBe(false)
  })
})
