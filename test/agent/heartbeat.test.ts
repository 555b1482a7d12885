import { describe, expect, it } from 'vitest'
import { createHeartbeat, type HeartbeatFacts } from '../../agent/src/heartbeat'
import type { AgentMessage } from '../../src/protocol'
import { SOCKET_HEARTBEAT_MS } from '../../src/protocol'
import { manualClock } from './support/clock'

const TICK_MS = 30_000

/**
 * A link whose socket the test opens and closes; what went out each way is recorded. The control plane
 * answers each socket heartbeat at once (`heartbeat_ok`) unless `answering` is off (an older one).
 */
function world() {
  const clock = manualClock()
  const sent: AgentMessage[] = []
  const posted: Record<string, unknown>[] = []
  let facts: HeartbeatFacts = {
    status: 'online',
    instance_id: 'i-1',
    instance_type: 't3.medium',
    mode: 'spot',
    az: 'us-east-1a',
  }
  let active = true
  const control = { answering: true }
  const link = {
    isStreamOpen: false,
    send(message: AgentMessage) {
      if (!link.isStreamOpen) return false
      sent.push(message)
      if (control.answering) queueMicrotask(() => heartbeat.onAnswer())
      return true
    },
    async heartbeat(body: Record<string, unknown>) {
      posted.push(body)
    },
  }
  const heartbeat = createHeartbeat({ link, clock, facts: () => facts, isActive: () => active })
  return {
    clock,
    link,
    sent,
    posted,
    heartbeat,
    control,
    setFacts: (next: Partial<HeartbeatFacts>) => void (facts = { ...facts, ...next }),
    stop: () => void (active = false),
    /** `n` rounds of the agent's heartbeat loop: a beat, then 30 s. */
    async ticks(n: number) {
      for (let i = 0; i < n; i++) {
        await heartbeat.beat()
        await clock.advance(TICK_MS)
      }
    },
  }
}

describe('the heartbeat', () => {
  it('goes over the open socket when it opens and every 90 s after, with no HTTP heartbeat', async () => {
    const w = world()
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    expect(w.sent).toEqual([
      {
        type: 'heartbeat',
        status: 'online',
        instance_id: 'i-1',
        instance_type: 't3.medium',
        mode: 'spot',
        az: 'us-east-1a',
      },
    ])
    await w.clock.advance(TICK_MS)
    // 10 minutes of loop ticks every 30 s.
    await w.ticks(20)
    expect(w.posted).toEqual([])
    expect(w.sent).toHaveLength(1 + Math.floor((20 * TICK_MS) / SOCKET_HEARTBEAT_MS))
  })

  it('tells a change of status over the socket at once', async () => {
    const w = world()
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    w.setFacts({ status: 'disabled' })
    w.heartbeat.onChange()
    expect(w.sent.map((m) => m.type === 'heartbeat' && m.status)).toEqual(['online', 'disabled'])
    w.heartbeat.onChange()
    expect(w.sent).toHaveLength(2)
  })

  it('is POSTed the moment the socket is down and every tick while it is, then stops when it is back', async () => {
    const w = world()
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    w.link.isStreamOpen = false
    w.heartbeat.onOpenChange()
    await Promise.resolve()
    expect(w.posted).toEqual([
      {
        status: 'online',
        instance_id: 'i-1',
        instance_type: 't3.medium',
        mode: 'spot',
        az: 'us-east-1a',
        monitored_instances: ['i-1'],
      },
    ])
    await w.ticks(3)
    expect(w.posted).toHaveLength(4)
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    await w.ticks(3)
    expect(w.posted).toHaveLength(4)
    expect(w.sent).toHaveLength(2)
  })

  it('sends nothing when the socket closes as the agent stops (its offline heartbeat comes last)', async () => {
    const w = world()
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    w.stop()
    w.link.isStreamOpen = false
    w.heartbeat.onOpenChange()
    await Promise.resolve()
    expect(w.posted).toEqual([])
  })

  it('is POSTed too while the control plane leaves socket heartbeats unanswered (one older than the agent)', async () => {
    const w = world()
    w.control.answering = false
    w.link.isStreamOpen = true
    w.heartbeat.onOpenChange()
    await w.ticks(5)
    expect(w.sent).toHaveLength(2)
    // Judged at each tick 25 s or more after a socket heartbeat (not at 0 s, nor at 90 s as it sends the next).
    expect(w.posted).toHaveLength(3)
  })
})
