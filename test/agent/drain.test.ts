import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { drain, type DrainSettings } from '../../agent/src/actions/drain'
import { handleNotice } from '../../agent/src/actions/notices'
import { createIntake } from '../../agent/src/commands'
import type { Command } from '../../src/protocol'
import { runSwitch } from '../../agent/src/actions/switch'
import { systemHost, type Execution, type Host } from '../../agent/src/host'
import type { FakeElbv2 } from '../fakes'
import { configWith } from './support/agent-config'
import { manualClock } from './support/clock'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, statefulConfig, switchTo, useFakeElbv2 } from './support/stateful'

const switchCommand = switchTo('t3.medium.us-east-1b', 'cmd-drain-1', 60)
/** The stateful mode, with its default of draining target groups. */
const draining = statefulConfig

useSeededEc2({ lifecycle: 'on-demand', az: 'us-east-1a' })
useFakeElbv2()

/** A host whose hooks exist and whose programs exit 0 at once; records what ran. */
function recordingHost(): Host & { ran: string[] } {
  const ran: string[] = []
  return {
    installed: false,
    ran,
    run: async (program) => Promise.reject(new Error(`unexpected ${program}`)),
    remove: async (path) => Promise.reject(new Error(`unexpected rm ${path}`)),
    probe: async () => 'executable',
    async execute(program, args): Promise<Execution> {
      ran.push([program, ...args].join(' '))
      return { kind: 'exited', code: 0, stdout: 'done\n', stderr: '' }
    },
  }
}

describe('a switch of an instance behind a target group', () => {
  it('deregisters the old instance and lets it drain before it is terminated, and registers the new one on the same port', async () => {
    const arn = elbv2.addTargetGroup({
      name: 'web',
      vpcId: w.vpcId,
      port: 8080,
      deregistrationDelaySeconds: 30,
      targets: [w.instanceId],
    })
    let atTermination: ReturnType<FakeElbv2['targetsOf']> | null = null
    ec2.failWhen('TerminateInstances', (params) => {
      if (params.get('InstanceId.1') === w.instanceId) atTermination = elbv2.targetsOf(arn)
      return undefined
    })
    const http = recordingHttp()
    const { ctx } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: draining() })
    ctx.state.startCommand(switchCommand, clock.now())
    expect(await runSwitch(ctx, switchCommand)).toMatchObject({ ok: true })

    const fresh = [...ec2.state.instances.values()].find((i) => i.instanceId !== w.instanceId)!
    // What EC2 and ELBv2 held when the old instance's termination arrived: only the new one serves.
    expect(atTermination).toEqual([{ id: fresh.instanceId, port: 8080, draining: false }])
    expect(['shutting-down', 'terminated']).toContain(ec2.instance(w.instanceId)!.state)
    const order = elbv2.events.map((e) => `${e.kind} ${e.id}:${e.port}`)
    expect(order).toEqual([
      `deregistering ${w.instanceId}:8080`,
      `drained ${w.instanceId}:8080`,
      `registered ${fresh.instanceId}:8080`,
    ])
    // Drained before the Elastic IP moved (the traffic switch point).
    const associatedAt = ec2.requests.find((r) => r.action === 'AssociateAddress')!.at
    expect(elbv2.events[1]!.at).toBeLessThanOrEqual(associatedAt)

    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as Record<string, any>
    expect(report.stateful.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['deregister_targets', true],
      ['register_targets', true],
    ])
    expect(report.stateful.steps[0].ms).toBeGreaterThanOrEqual(30_000)
    expect(report.stateful.downtime_ms).toBeGreaterThanOrEqual(30_000)
    expect(report.stateful).toMatchObject({ data_loss_bound_seconds: null, address: null, volumes: [] })
  })

  it('runs the pre-switch hook and stops the drain unit before the move, the post-switch hook after', async () => {
    elbv2.addTargetGroup({
      name: 'web',
      vpcId: w.vpcId,
      targets: [w.instanceId],
      deregistrationDelaySeconds: 5,
    })
    const host = recordingHost()
    const http = recordingHttp()
    const { ctx } = actionContext(ec2, w, clock, {
      http,
      elbv2,
      host,
      agentConfig: draining({ drain_unit: 'app.service' }),
      env: { SPOTGUARD_HOOKS_DIR: '/srv/hooks' },
    })
    ctx.state.startCommand(switchCommand, clock.now())
    expect(await runSwitch(ctx, switchCommand)).toMatchObject({ ok: true })
    const fresh = [...ec2.state.instances.values()].find((i) => i.instanceId !== w.instanceId)!
    expect(host.ran).toEqual([
      '/srv/hooks/pre-switch switch',
      'systemctl stop app.service',
      `/srv/hooks/post-switch ${fresh.instanceId}`,
    ])
    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as Record<string, any>
    expect(report.stateful.steps.map((s: { name: string }) => s.name)).toEqual([
      'deregister_targets',
      'pre_switch_hook',
      'stop_unit',
      'register_targets',
      'post_switch_hook',
    ])
  })

  it.each([
    ['a stateless agent (even with drain_target_groups)', { drain_target_groups: true }],
    ['a stateful agent with drain_target_groups off', { stateful: true, drain_target_groups: false }],
  ])('%s leaves the target groups alone', async (_, over) => {
    const arn = elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId, targets: [w.instanceId] })
    const http = recordingHttp()
    const { ctx } = actionContext(ec2, w, clock, {
      http,
      elbv2,
      agentConfig: { ...configWith(undefined), ...over },
    })
    ctx.state.startCommand(switchCommand, clock.now())
    expect(await runSwitch(ctx, switchCommand)).toMatchObject({ ok: true })
    expect(elbv2.count()).toBe(0)
    expect(elbv2.targetsOf(arn)).toEqual([{ id: w.instanceId, port: 80, draining: false }])
    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as Record<string, any>
    expect(report).not.toHaveProperty('stateful')
  })
})

describe('an interruption notice', () => {
  it('deregisters at once and keeps the drain, the hook and the unit stop within the deadline', async () => {
    const arn = elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId, targets: [w.instanceId] }) // 300 s delay
    const host = recordingHost()
    const { ctx, log } = actionContext(ec2, w, clock, {
      elbv2,
      host,
      agentConfig: draining({ drain_unit: 'app.service', hook_timeout_seconds: 30 }),
    })
    const detectedAt = clock.now()
    const deadline = detectedAt + 120_000
    const result = await handleNotice(ctx, {
      kind: 'interruption',
      id: 'n-drain',
      action: 'terminate',
      time: new Date(deadline).toISOString(),
    })
    expect(result).toMatchObject({ ok: true })
    expect(elbv2.requests.find((r) => r.action === 'DeregisterTargets')!.at).toBe(detectedAt)
    // The wait for draining stopped in time for the hook (30 s) and the unit (20 s) before the margin (10 s).
    const polls = elbv2.requests.filter(
      (r) => r.action === 'DescribeTargetHealth' && r.params['Targets.member.1.Id'],
    )
    expect(polls.at(-1)!.at).toBeLessThanOrEqual(deadline - 60_000)
    expect(elbv2.targetsOf(arn)).toEqual([{ id: w.instanceId, port: 80, draining: true }])
    expect(host.ran).toEqual([
      '/etc/spot-optimizer/hooks/pre-switch interruption',
      'systemctl stop app.service',
    ])
    const { steps } = log.lines.find((l) => l.msg === 'interruption: drained') as unknown as {
      steps: Array<{ name: string; started_at: string; ms: number }>
    }
    expect(steps.map((s) => s.name)).toEqual(['deregister_targets', 'pre_switch_hook', 'stop_unit'])
    for (const s of steps) expect(Date.parse(s.started_at) + s.ms).toBeLessThanOrEqual(deadline - 10_000)
  })
})

describe('an interruption notice answered by a promotion', () => {
  it('puts the promoted replica in the groups the old instance left before it dies, and reports the drain', async () => {
    const arn = elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId, port: 8080, targets: [w.instanceId] })
    const replica = ec2.seed.addInstance({
      imageId: w.launchImageId,
      instanceType: 't3.medium',
      subnetId: w.subnets['us-east-1b']!,
      securityGroupIds: [w.securityGroupId],
      profileName: w.profile.name,
    })
    const http = recordingHttp([
      (call) =>
        call.path.endsWith('/termination-imminent')
          ? {
              status: 200,
              body: { success: true, action: 'replica_promoted', new_instance_id: replica.instanceId },
            }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: draining() })
    const deadline = clock.now() + 120_000
    const time = new Date(deadline).toISOString()
    expect(
      await handleNotice(ctx, { kind: 'interruption', id: 'n-promoted', action: 'terminate', time }),
    ).toMatchObject({ ok: true })
    await ctx.link.drain(10_000)

    const registered = elbv2.requests.find(
      (r) => r.action === 'RegisterTargets' && r.params['Targets.member.1.Id'] === replica.instanceId,
    )!
    expect(registered.params['Targets.member.1.Port']).toBe('8080')
    expect(registered.at).toBeLessThanOrEqual(deadline - 10_000)
    expect(elbv2.targetsOf(arn)).toEqual([
      { id: w.instanceId, port: 8080, draining: true },
      { id: replica.instanceId, port: 8080, draining: false },
    ])
    const report = http.calls.find((c) => c.path.endsWith('/interruption-drain'))!.body as Record<string, any>
    expect(report).toMatchObject({
      instance_id: w.instanceId,
      termination_time: time,
      target_groups: [{ target_group_arn: arn, port: 8080 }],
      registered_instance_id: replica.instanceId,
    })
    expect(report.steps.map((s: { name: string }) => s.name)).toEqual([
      'deregister_targets',
      'register_targets',
    ])
  })

  it('reports nothing for an instance behind no target group, with no hook and no unit', async () => {
    const http = recordingHttp()
    const host = { ...recordingHost(), probe: async () => 'absent' as const }
    const { ctx } = actionContext(ec2, w, clock, { http, elbv2, host, agentConfig: draining() })
    const time = new Date(clock.now() + 120_000).toISOString()
    expect(
      await handleNotice(ctx, { kind: 'interruption', id: 'n-plain', action: 'terminate', time }),
    ).toMatchObject({ ok: true })
    await ctx.link.drain(10_000)
    expect(http.calls.map((c) => c.path).filter((p) => p.endsWith('/interruption-drain'))).toEqual([])
  })
})

describe("an interruption's replacement told register_targets", () => {
  const OLD = 'i-0aaaaaaaaaaaaaaa1'
  const registerTargets = (arn: string, id = 'cmd-rt-1'): Command => ({
    id,
    command_type: 'register_targets',
    instance_id: w.instanceId,
    priority: 100,
    created_at: '2026-01-01T00:00:00Z',
    expires_at: null,
    old_instance_id: OLD,
    termination_time: '2026-01-01T00:02:00.000Z',
    target_groups: [{ target_group_arn: arn, port: 5432 }],
  })
  const settle = async () => {
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r))
  }

  it("joins the groups the interrupted instance left once its data is back, and reports the step as that drain's", async () => {
    const arn = elbv2.addTargetGroup({ name: 'db', vpcId: w.vpcId, port: 5432, targets: [] })
    const http = recordingHttp()
    const host = { ...recordingHost(), probe: async () => 'absent' as const }
    const { ctx, state } = actionContext(ec2, w, clock, { http, elbv2, host, agentConfig: draining() })
    // The stateful start (the restore of its data) has not settled yet.
    let restored!: () => void
    const start = new Promise<void>((resolve) => (restored = resolve))
    const intake = createIntake(ctx, { settled: () => start })
    intake.offer(registerTargets(arn), 'socket')
    await settle()
    expect(elbv2.requests.filter((r) => r.action === 'RegisterTargets')).toEqual([])

    restored()
    await settle()
    await intake.idle()
    await ctx.link.drain(10_000)
    expect(elbv2.targetsOf(arn)).toEqual([{ id: w.instanceId, port: 5432, draining: false }])
    const report = http.calls.find((c) => c.path.endsWith('/interruption-drain'))!.body as Record<string, any>
    expect(report).toMatchObject({
      instance_id: OLD,
      termination_time: '2026-01-01T00:02:00.000Z',
      target_groups: [{ target_group_arn: arn, port: 5432 }],
      registered_instance_id: w.instanceId,
    })
    expect(report.steps).toEqual([
      expect.objectContaining({
        name: 'register_targets',
        ok: true,
        detail: `${w.instanceId} registered in 1 target group(s)`,
      }),
    ])
    expect(state.isExecuted('cmd-rt-1')).toBe(true)
    const executed = http.calls.find((c) => c.path.endsWith('/commands/cmd-rt-1/executed'))!.body
    expect(executed).toMatchObject({ success: true })
  })

  it('registers nothing once the agent retired on this instance (the replacement was superseded)', async () => {
    const arn = elbv2.addTargetGroup({ name: 'db', vpcId: w.vpcId, port: 5432, targets: [] })
    const http = recordingHttp()
    const { ctx, state } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: draining() })
    state.retire(w.instanceId, 'switched to i-0bbbbbbbbbbbbbbb2', clock.now())
    const intake = createIntake(ctx)
    intake.offer(registerTargets(arn, 'cmd-rt-2'), 'socket')
    await settle()
    await intake.idle()
    await ctx.link.drain(10_000)
    expect(elbv2.requests.filter((r) => r.action === 'RegisterTargets')).toEqual([])
    expect(elbv2.targetsOf(arn)).toEqual([])
    expect(http.calls.some((c) => c.path.endsWith('/interruption-drain'))).toBe(false)
    const executed = http.calls.find((c) => c.path.endsWith('/commands/cmd-rt-2/executed'))!.body
    expect(executed).toMatchObject({ success: false })
  })
})

describe('the hooks', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spotguard-hooks-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const settings: DrainSettings = { targetGroups: false, unit: null, hookTimeoutMs: 5_000 }
  const hook = (body: string) => {
    writeFileSync(join(dir, 'pre-switch'), `#!/bin/sh\n${body}\n`)
    chmodSync(join(dir, 'pre-switch'), 0o755)
  }

  it('kills a hanging hook (and what it started) at its timeout and records it, not fatal', async () => {
    hook('echo waiting; sleep 600')
    const timeClock = manualClock()
    const { ctx, log } = actionContext(ec2, w, timeClock, {
      host: systemHost,
      env: { SPOTGUARD_HOOKS_DIR: dir },
    })
    const realStart = Date.now()
    const running = drain(ctx, settings, 'switch', { drainUntil: timeClock.now(), endBy: Infinity })
    while (timeClock.sleeping === 0) await new Promise((r) => setImmediate(r))
    await timeClock.advance(5_000)
    const { steps } = await running
    expect(steps).toEqual([
      expect.objectContaining({
        name: 'pre_switch_hook',
        ok: false,
        ms: 5_000,
        detail: 'pre-switch: killed after its 5 s timeout',
      }),
    ])
    expect(Date.now() - realStart).toBeLessThan(10_000)
    expect(log.lines.some((l) => l.msg === 'drain: pre_switch_hook failed')).toBe(true)
  })

  it('records a failing hook with its exit code and logs its output', async () => {
    hook('echo "flushing $1"; echo "disk full" >&2; exit 3')
    const timeClock = manualClock()
    const { ctx, log } = actionContext(ec2, w, timeClock, {
      host: systemHost,
      env: { SPOTGUARD_HOOKS_DIR: dir },
    })
    const { steps } = await drain(ctx, settings, 'interruption', {
      drainUntil: timeClock.now(),
      endBy: Infinity,
    })
    expect(steps).toEqual([
      expect.objectContaining({
        name: 'pre_switch_hook',
        ok: false,
        detail: 'pre-switch: exit 3: disk full',
      }),
    ])
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        msg: 'drain: pre-switch hook output',
        stdout: 'flushing interruption\n',
        stderr: 'disk full\n',
      }),
    )
  })

  it('skips an absent hook and records one that is not executable', async () => {
    const timeClock = manualClock()
    const { ctx } = actionContext(ec2, w, timeClock, { host: systemHost, env: { SPOTGUARD_HOOKS_DIR: dir } })
    expect((await drain(ctx, settings, 'switch', { drainUntil: 0, endBy: Infinity })).steps).toEqual([])
    writeFileSync(join(dir, 'pre-switch'), '#!/bin/sh\n')
    chmodSync(join(dir, 'pre-switch'), 0o644)
    const { steps } = await drain(ctx, settings, 'switch', { drainUntil: 0, endBy: Infinity })
    expect(steps).toEqual([expect.objectContaining({ name: 'pre_switch_hook', ok: false })])
  })
})
