import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIntake } from '../../agent/src/commands'
import type { Command } from '../../src/protocol'
import { seedWorkload, startFakeEc2, type FakeEc2, type SeededWorkload } from '../fakes'
import { instantClock } from './support/clock'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'

let clock: ReturnType<typeof instantClock>
let ec2: FakeEc2
let w: SeededWorkload

beforeEach(async () => {
  clock = instantClock()
  ec2 = await startFakeEc2({ clock })
  w = seedWorkload(ec2)
})
afterEach(() => ec2.close())

const cleanup = (id: string, instanceId: string | null = null): Command => ({
  id,
  command_type: 'cleanup',
  instance_id: instanceId,
  priority: 10,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
})
const settle = async () => {
  for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r))
}

describe('command intake', () => {
  it('claims a command, runs it once however often it is delivered, and reports executed', async () => {
    const { ctx, http, state } = actionContext(ec2, w, clock)
    const intake = createIntake(ctx)
    intake.offer(cleanup('c1'), 'socket')
    intake.offer(cleanup('c1'), 'poll')
    await settle()
    await intake.idle()
    await ctx.link.delivered('executed:c1')
    const paths = http.calls.map((c) => c.path.replace('/api/agents/agent-1', ''))
    expect(paths.filter((p) => p === '/commands/c1/ack')).toHaveLength(1)
    expect(paths.filter((p) => p === '/cleanup-report')).toHaveLength(1)
    expect(paths.at(-1)).toBe('/commands/c1/executed')
    expect(http.calls.find((c) => c.path.endsWith('/ack'))!.body).toEqual({ instance_id: w.instanceId })
    expect(state.isExecuted('c1')).toBe(true)
  })

  it('ignores commands for another instance', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    createIntake(ctx).offer(cleanup('c2', 'i-0ffffffffffffffff'), 'socket')
    await settle()
    expect(http.calls).toEqual([])
  })

  it('does not run a command another instance claimed first', async () => {
    const http = recordingHttp([(c) => (c.path.endsWith('/ack') ? { status: 409, body: { error: 'command is acked elsewhere' } } : undefined)])
    const { ctx, state } = actionContext(ec2, w, clock, { http })
    const intake = createIntake(ctx)
    intake.offer(cleanup('c3'), 'socket')
    await settle()
    await intake.idle()
    expect(ec2.requests).toEqual([])
    expect(state.inflight()).toEqual([])
  })

  it('answers a command executed before a restart with executed again, without running it', async () => {
    const { ctx, http, state } = actionContext(ec2, w, clock)
    state.markExecuted('c4', clock.now())
    createIntake(ctx).offer(cleanup('c4'), 'poll')
    await ctx.link.delivered('executed:c4')
    expect(http.calls.map((c) => c.path)).toEqual(['/api/agents/agent-1/commands/c4/executed'])
    expect(ec2.requests).toEqual([])
  })

  it('leaves a command unclaimed when the control plane does not answer, so a later delivery runs it', async () => {
    let down = true
    const http = recordingHttp([(c) => (down && c.path.endsWith('/ack') ? { status: 0 } : undefined)])
    const { ctx, state } = actionContext(ec2, w, clock, { http })
    const intake = createIntake(ctx)
    intake.offer(cleanup('c5'), 'poll')
    await settle()
    expect(state.inflight()).toEqual([])
    down = false
    intake.offer(cleanup('c5'), 'poll')
    await settle()
    await intake.idle()
    expect(state.isExecuted('c5')).toBe(true)
  })

  it('skips an expired command', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    createIntake(ctx).offer({ ...cleanup('c6'), expires_at: new Date(clock.now() - 1000).toISOString() }, 'poll')
    await settle()
    expect(http.calls).toEqual([])
  })
})
