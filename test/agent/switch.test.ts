import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { amiName, clientToken } from '../../agent/src/actions/context'
import { runSwitch } from '../../agent/src/actions/switch'
import { openState } from '../../agent/src/state'
import type { Command } from '../../src/protocol'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

type Switch = Extract<Command, { command_type: 'switch' }>
const command = (over: Partial<Switch> = {}): Switch => ({
  id: 'cmd-switch-1',
  command_type: 'switch',
  instance_id: null,
  target_mode: 'spot',
  target_pool_id: 't3.medium.us-east-1b',
  priority: 75,
  terminate_wait_seconds: 300,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
  ...over,
})

useSeededEc2({ lifecycle: 'on-demand', az: 'us-east-1a' })

/** As the intake does: the command is recorded as in flight before its action runs. */
function start(ctx: { state: { startCommand(c: Command, at: number): void } }, c: Switch): Switch {
  ctx.state.startCommand(c, clock.now())
  return c
}

const launched = () => [...ec2.state.instances.values()].filter((i) => i.instanceId !== w.instanceId)

describe('runSwitch', () => {
  it('moves the workload: AMI, same VPC/SGs/profile/key/user data/tags in the target pool, EIP, reports, then terminates', async () => {
    const http = recordingHttp()
    const oldStateAtReport: string[] = []
    http.on((call) => {
      if (/switch-report|executed/.test(call.path)) oldStateAtReport.push(ec2.instance(w.instanceId)!.state)
      return undefined
    })
    const { ctx, retired } = actionContext(ec2, w, clock, { http })
    const result = await runSwitch(ctx, start(ctx, command()))
    expect(result).toMatchObject({ ok: true })

    const [fresh, ...more] = launched()
    expect(more).toEqual([])
    expect(fresh).toMatchObject({
      az: 'us-east-1b',
      lifecycle: 'spot',
      subnetId: w.subnets['us-east-1b'],
      vpcId: w.vpcId,
      securityGroupIds: [w.securityGroupId],
      keyName: w.keyName,
      userData: ec2.instance(w.instanceId)!.userData,
    })
    expect(fresh!.profile?.arn).toBe(w.profile.arn)
    expect(fresh!.tags).toMatchObject({
      Name: 'web-1',
      Team: 'core',
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
    })
    expect(Object.keys(fresh!.tags).some((k) => k.startsWith('aws:'))).toBe(false)

    const image = ec2.state.images.get(fresh!.imageId)!
    expect(image.sourceInstanceId).toBe(w.instanceId)
    expect(image.name).toMatch(new RegExp(`^SpotOptimizer-${w.instanceId}-\\d{8}-\\d{6}$`))
    expect(image.tags).toMatchObject({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
      SourceInstance: w.instanceId,
    })

    expect([...ec2.state.addresses.values()].find((a) => a.allocationId === w.allocationId)!.instanceId).toBe(
      fresh!.instanceId,
    )
    expect(ec2.requests.find((r) => r.action === 'CreateImage')!.params.NoReboot).toBe('true')
    expect(ec2.requests.find((r) => r.action === 'RunInstances')!.params.ClientToken).toBe(
      clientToken('switch', 'cmd-switch-1'),
    )

    // Reported and marked done while the old instance still ran; terminated only after that.
    await ctx.link.delivered('switch-terminated:cmd-switch-1')
    const paths = http.calls.map((c) => c.path)
    expect(paths).toEqual([
      '/api/agents/agent-1/switch-report',
      '/api/agents/agent-1/commands/cmd-switch-1/executed',
      '/api/agents/agent-1/switch-report',
      '/api/agents/agent-1/switch-report',
    ])
    // The second report says the host is about to end itself, while it still runs (its confirmation,
    // the third, may die with the host); the third carries the confirmed termination time.
    expect((http.calls[0]!.body as any).timing.old_instance_terminated_at).toBeNull()
    expect((http.calls[2]!.body as any).timing).toMatchObject({
      old_instance_terminating_at: expect.any(String),
      old_instance_terminated_at: null,
    })
    expect((http.calls[3]!.body as any).timing.old_instance_terminated_at).toBeTruthy()
    expect(oldStateAtReport.slice(0, 3)).toEqual(['running', 'running', 'running'])
    expect(['shutting-down', 'terminated']).toContain(ec2.instance(w.instanceId)!.state)
    expect(retired).toHaveLength(1)
    // Tagged first, so that a tag-scoped policy lets the agent terminate it.
    expect(ec2.instance(w.instanceId)!.tags).toMatchObject({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
    })

    const report = http.calls[0]!.body as Record<string, any>
    expect(report.command_id).toBe('cmd-switch-1')
    expect(report.trigger).toBe('manual')
    expect(report.old_instance).toMatchObject({ instance_id: w.instanceId, mode: 'ondemand', pool_id: null })
    // public_ip: the Elastic IP that followed, which a later promotion must find (the new instance registered with its own).
    expect(report.new_instance).toMatchObject({
      instance_id: fresh!.instanceId,
      mode: 'spot',
      pool_id: 't3.medium.us-east-1b',
      az: 'us-east-1b',
      public_ip: w.publicIp,
    })
    expect(report.snapshot).toEqual({ used: true, ami_id: image.imageId })
    expect(report.timing.traffic_switched_at).toBeTruthy()
  })

  it('moves one Elastic IP (a new instance has one primary IP) and names those that stay behind', async () => {
    const second = ec2.seed.addAddress({ instanceId: w.instanceId })
    const { ctx, log } = actionContext(ec2, w, clock)
    expect(await runSwitch(ctx, start(ctx, command()))).toMatchObject({ ok: true })
    const [fresh] = launched()
    expect(
      ec2.requests.filter((r) => r.action === 'AssociateAddress').map((r) => r.params.AllocationId),
    ).toEqual([w.allocationId])
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(fresh!.instanceId)
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        msg: 'switch: only one Elastic IP can follow; these stay behind',
        public_ips: [second.publicIp],
      }),
    )
  })

  it('waits terminate_wait_seconds after the switch before terminating the old instance', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    await runSwitch(ctx, start(ctx, command({ terminate_wait_seconds: 120 })))
    const switched = ec2.requests.find((r) => r.action === 'AssociateAddress')!.at
    const terminated = ec2.requests.find((r) => r.action === 'TerminateInstances')!.at
    expect(terminated - switched).toBeGreaterThanOrEqual(120_000)
  })

  it('asks CreateImage to reboot for a consistent image when SPOTGUARD_AMI_NO_REBOOT=false', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    ctx.config = { ...ctx.config, amiNoReboot: false }
    expect(await runSwitch(ctx, start(ctx, command({ terminate_wait_seconds: 0 })))).toMatchObject({
      ok: true,
    })
    expect(ec2.requests.find((r) => r.action === 'CreateImage')!.params.NoReboot).toBe('false')
  })

  it('keeps the old instance when terminate_wait_seconds is 0', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    expect(await runSwitch(ctx, start(ctx, command({ terminate_wait_seconds: 0 })))).toMatchObject({
      ok: true,
    })
    expect(ec2.count('TerminateInstances')).toBe(0)
    expect(ec2.instance(w.instanceId)!.state).toBe('running')
  })

  it('resumes after a restart mid-switch with exactly one image and one new instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-switch-'))
    const stop = new AbortController()
    ec2.onLaunch(() => stop.abort()) // the process "dies" right after RunInstances
    const first = actionContext(ec2, w, clock, { state: openState(dir, clock.now), signal: stop.signal })
    first.state.startCommand(command(), clock.now())
    expect(await runSwitch(first.ctx, command())).toMatchObject({ ok: false, code: 'Stopped' })
    expect(launched()).toHaveLength(1)
    expect(first.http.calls).toEqual([])

    const second = actionContext(ec2, w, clock, { state: openState(dir, clock.now) })
    expect(await runSwitch(second.ctx, command())).toMatchObject({ ok: true })
    expect(launched()).toHaveLength(1)
    expect(ec2.count('CreateImage')).toBe(1)
    expect(second.http.calls.map((c) => c.path)).toContain('/api/agents/agent-1/switch-report')
  })

  it('a launch refused for capacity fails with the typed code and creates nothing to clean', async () => {
    ec2.failWhen('RunInstances', () => 'InsufficientInstanceCapacity')
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await runSwitch(ctx, start(ctx, command()))
    expect(result).toMatchObject({ ok: false, code: 'InsufficientInstanceCapacity', retryable: true })
    expect(launched()).toHaveLength(0)
    expect(http.calls).toEqual([])
    expect(ec2.instance(w.instanceId)!.state).toBe('running')
  })

  it('a failure after the launch terminates the new instance and says why', async () => {
    ec2.failNext('AssociateAddress', 'InvalidParameterValue', { message: 'bad allocation' })
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await runSwitch(ctx, start(ctx, command()))
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).toMatch(/bad allocation.*terminated/)
    expect(['shutting-down', 'terminated']).toContain(launched()[0]!.state)
    expect(ec2.instance(w.instanceId)!.state).toBe('running')
    expect(http.calls).toEqual([])
  })

  it('launches the target instance type from the image of the running instance, and reports both types', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await runSwitch(
      ctx,
      start(ctx, command({ target_pool_id: 't3a.medium.us-east-1b', target_instance_type: 't3a.medium' })),
    )
    expect(result).toMatchObject({ ok: true })
    const [fresh] = launched()
    expect(fresh).toMatchObject({ instanceType: 't3a.medium', az: 'us-east-1b', lifecycle: 'spot' })
    expect(ec2.state.images.get(fresh!.imageId)!.sourceInstanceId).toBe(w.instanceId)
    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as {
      old_instance: { instance_type: string }
      new_instance: { instance_type: string; pool_id: string }
    }
    expect(report.old_instance.instance_type).toBe('t3.medium')
    expect(report.new_instance).toMatchObject({
      instance_type: 't3a.medium',
      pool_id: 't3a.medium.us-east-1b',
    })
  })

  it('refuses a switch whose pool is not of its target_instance_type', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    const result = await runSwitch(
      ctx,
      start(ctx, command({ target_pool_id: 't3.medium.us-east-1b', target_instance_type: 'm5.large' })),
    )
    expect(result).toMatchObject({ ok: false, code: 'BadTarget' })
    expect(launched()).toHaveLength(0)
  })

  it('refuses a switch to where it already is', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    expect(
      await runSwitch(ctx, start(ctx, command({ target_mode: 'ondemand', target_pool_id: null }))),
    ).toMatchObject({ ok: false, code: 'AlreadyThere' })
  })

  it('names AMIs as agent-api.md says', () => {
    expect(amiName('i-0abc', Date.parse('2026-03-04T05:06:07Z'))).toBe('SpotOptimizer-i-0abc-20260304-050607')
  })
})
