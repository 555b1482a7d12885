import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIntake } from '../../agent/src/commands'
import type { Command } from '../../src/protocol'
import { seedWorkload, startFakeEc2, type FakeEc2, type SeededWorkload } from '../fakes'
import { eventually } from '../support/eventually'
import { instantClock, manualClock } from './support/clock'
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
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/ack') ? { status: 409, body: { error: 'command is acked elsewhere' } } : undefined,
    ])
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
    createIntake(ctx).offer(
      { ...cleanup('c6'), expires_at: new Date(clock.now() - 1000).toISOString() },
      'poll',
    )
    await settle()
    expect(http.calls).toEqual([])
  })

  it('reports each step of the command it runs with running, so the control plane renews its lease', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    const intake = createIntake(ctx)
    const switchCommand: Command = {
      id: 'c7',
      command_type: 'switch',
      instance_id: w.instanceId,
      target_mode: 'spot',
      target_pool_id: 't3.medium.us-east-1b',
      priority: 75,
      terminate_wait_seconds: 0,
      created_at: '2026-01-01T00:00:00Z',
      expires_at: null,
    }
    intake.offer(switchCommand, 'socket')
    await settle()
    await intake.idle()
    await ctx.link.delivered('executed:c7')
    const steps = http.calls
      .filter((c) => c.path === '/api/agents/agent-1/commands/c7/running')
      .map((c) => (c.body as { instance_id: string; step: string | null }).step)
    expect(
      http.calls
        .filter((c) => c.path.endsWith('/running'))
        .every((c) => (c.body as { instance_id: string }).instance_id === w.instanceId),
    ).toBe(true)
    expect(steps[0]).toBeNull()
    expect(steps).toContainEqual(expect.stringMatching(/^imageId=ami-/))
    expect(steps).toContainEqual(expect.stringMatching(/^newInstanceId=i-[0-9a-f]+ launchedAt=\d+$/))
    expect(steps.length).toBeGreaterThanOrEqual(5)
  })

  it('once retired here, refuses a command for this instance and leaves one for any instance to the new one', async () => {
    const { ctx, http, state } = actionContext(ec2, w, clock)
    state.retire(w.instanceId, 'workload switched to i-0123456789abcdef0', clock.now())
    const intake = createIntake(ctx)
    intake.offer(cleanup('c8', w.instanceId), 'socket')
    intake.offer(cleanup('c9'), 'poll')
    await settle()
    await ctx.link.delivered('executed:c8')
    expect(http.calls.map((c) => [c.path, c.body])).toEqual([
      [
        '/api/agents/agent-1/commands/c8/executed',
        {
          success: false,
          message: `Refused: the agent retired on ${w.instanceId} (workload switched to i-0123456789abcdef0)`,
        },
      ],
    ])
    expect(ec2.requests).toEqual([])
    expect(state.isExecuted('c9')).toBe(false)
  })

  it('refuses a command queued behind the one that retired the agent', async () => {
    const http = recordingHttp()
    const { ctx, state } = actionContext(ec2, w, clock, { http })
    // The first command retires the agent while it runs (as a switch does once it has reported).
    http.on((c) => {
      if (c.path.endsWith('/commands/c10/running'))
        state.retire(w.instanceId, 'workload switched', clock.now())
      return undefined
    })
    const intake = createIntake(ctx)
    intake.offer(cleanup('c10'), 'socket')
    intake.offer(cleanup('c11'), 'socket')
    await settle()
    await intake.idle()
    await ctx.link.delivered('executed:c11')
    const executed = http.calls
      .filter((c) => c.path.endsWith('/executed'))
      .map((c) => [c.path.split('/').at(-2), c.body])
    expect(executed).toContainEqual([
      'c11',
      { success: false, message: expect.stringMatching(/^Refused: the agent retired/) },
    ])
    expect(http.calls.some((c) => c.path.endsWith('/commands/c11/running'))).toBe(false)
  })

  it('abandons a switch of an instance being interrupted (the promotion queued behind it runs next) and refuses a later one', async () => {
    const manual = manualClock()
    const region = await startFakeEc2({ clock: manual })
    try {
      const workload = seedWorkload(region, { lifecycle: 'spot', az: 'us-east-1a' })
      const { ctx, http } = actionContext(region, workload, manual)
      const intake = createIntake(ctx)
      const switchOf = (id: string): Command => ({
        id,
        command_type: 'switch',
        instance_id: workload.instanceId,
        target_mode: 'spot',
        target_pool_id: 't3.medium.us-east-1b',
        priority: 20,
        terminate_wait_seconds: 0,
        created_at: '2026-01-01T00:00:00Z',
        expires_at: null,
      })
      intake.offer(switchOf('s1'), 'socket')
      // The switch waits for its AMI (minutes on EC2) when the notice comes.
      await eventually(() => region.requests.some((r) => r.action === 'CreateImage') && manual.sleeping > 0, {
        what: 'the switch waiting for its image',
        timeoutMs: 5_000,
      })
      intake.offer(cleanup('after'), 'socket')
      intake.interrupt('interruption notice')
      await eventually(() => ctx.state.isExecuted('after'), {
        what: 'the command queued behind it',
        timeoutMs: 5_000,
      })
      await ctx.link.delivered('executed:s1')
      const executed = (id: string) =>
        http.calls.find((c) => c.path.endsWith(`/commands/${id}/executed`))?.body
      expect(executed('s1')).toEqual({
        success: false,
        message: expect.stringMatching(/^Interrupted: .*abandoned: this instance is being interrupted/),
      })
      expect(region.requests.filter((r) => r.action === 'RunInstances')).toEqual([])

      intake.offer(switchOf('s2'), 'socket')
      await eventually(() => ctx.state.isExecuted('s2'), {
        what: 'the later switch answered',
        timeoutMs: 5_000,
      })
      await ctx.link.delivered('executed:s2')
      expect(executed('s2')).toEqual({
        success: false,
        message: `Refused: ${workload.instanceId} is being interrupted (interruption notice)`,
      })
      expect(region.requests.filter((r) => r.action === 'CreateImage')).toHaveLength(1)
    } finally {
      await region.close()
    }
  })
})

describe('command expiry', () => {
  const HOUR = 3_600_000
  // The host's clock runs an hour fast, then an hour slow; the control plane's poll answer says its time.
  for (const [skew, how] of [
    [-HOUR, 'fast'],
    [HOUR, 'slow'],
  ] as const) {
    it(`judges expires_at by the control plane's clock, not the agent's an hour ${how}: a fresh command runs, an expired one does not`, async () => {
      const serverNow = clock.now() + skew
      const fresh = { ...cleanup('fresh'), expires_at: new Date(serverNow + 30 * 60_000).toISOString() }
      const stale = { ...cleanup('stale'), expires_at: new Date(serverNow - 5 * 60_000).toISOString() }
      const http = recordingHttp([
        (c) => (c.path.includes('/pending-commands') ? { status: 200, body: [fresh, stale], serverTime: serverNow } : undefined),
      ])
      const { ctx, state } = actionContext(ec2, w, clock, { http })
      const intake = createIntake(ctx)
      const polled = await ctx.link.pendingCommands(w.instanceId)
      expect(polled.ok).toBe(true)
      if (polled.ok) for (const command of polled.body) intake.offer(command, 'poll')
      await settle()
      await intake.idle()
      await ctx.link.delivered('executed:fresh')
      const paths = http.calls.map((c) => c.path.replace('/api/agents/agent-1', ''))
      expect(paths).toContain('/commands/fresh/ack')
      expect(paths).toContain('/cleanup-report')
      expect(paths.some((p) => p.includes('/stale'))).toBe(false)
      expect(state.isExecuted('fresh')).toBe(true)
      expect(state.isExecuted('stale')).toBe(false)
    })
  }
})
