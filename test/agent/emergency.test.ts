import { beforeEach, describe, expect, it } from 'vitest'
import { moveElasticIp } from '../../agent/src/actions/emergency'
import {
  EMERGENCY_TAG_PREFIX,
  emergencyReportKey,
  reportOwnEmergencyLaunch,
} from '../../agent/src/actions/emergency-tags'
import { inheritedTags } from '../../agent/src/actions/launch'
import { CONTROL_PLANE_SHARE_MS, handleNotice } from '../../agent/src/actions/notices'
import { seedWorkload, startFakeEc2 } from '../fakes'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, interruptionNotice, useSeededEc2, w } from './support/seeded-ec2'

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
beforeEach(() => {
  ec2.setSpotPrice('t3.medium', 'us-east-1a', 0.01)
  ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.016)
  ec2.setSpotPrice('t3.medium', 'us-east-1c', 0.013)
})

/**
 * The switch report waits (in flight) until `answer()`: on the instant clock, an outbox retrying a
 * control plane that is down would spin forever instead of backing off.
 */
function heldReports(http: ReturnType<typeof recordingHttp>) {
  let answer = () => {}
  const gate = new Promise<void>((resolve) => (answer = resolve))
  const request: typeof http.request = async (method, path, body, schema) => {
    if (path.endsWith('/switch-report')) await gate
    return http.request(method, path, body, schema)
  }
  return { ...http, request, answer }
}

const others = () => [...ec2.state.instances.values()].filter((i) => i.instanceId !== w.instanceId)
const notice = () => interruptionNotice('n-down')

describe('interruption with the control plane unreachable', () => {
  it('stops waiting after its share of the budget and launches in the cheapest other AZ on its own', async () => {
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log, retired } = actionContext(ec2, w, clock, { http })
    const start = clock.now()
    const n = notice()
    const result = await handleNotice(ctx, n)
    expect(result).toMatchObject({ ok: true })
    const launchedAt = ec2.requests.find((r) => r.action === 'RunInstances')!.at
    expect(launchedAt - start).toBeLessThanOrEqual(CONTROL_PLANE_SHARE_MS)
    expect(http.calls.length).toBeGreaterThan(1)
    expect(http.calls.every((c) => c.path.endsWith('/termination-imminent'))).toBe(true)
    const [replica, ...more] = others()
    expect(more).toEqual([])
    expect(replica).toMatchObject({ az: 'us-east-1c', lifecycle: 'spot', imageId: w.launchImageId })
    expect(replica!.tags).toMatchObject({
      ReplicaType: 'emergency',
      ReplicaId: 'local-n-down',
      ParentInstance: w.instanceId,
    })
    expect(
      log.lines.some((l) => l.msg === 'interruption: control plane unreachable, emergency launch on our own'),
    ).toBe(true)
    // No replica record to report to: the launch is queued as a switch to the replacement, and the
    // agent retires here (the workload moved).
    expect(ctx.state.outbox()).toEqual([
      expect.objectContaining({
        key: emergencyReportKey(n.id),
        method: 'POST',
        path: '/api/agents/agent-1/switch-report',
        body: expect.objectContaining({
          trigger: 'interruption',
          old_instance: expect.objectContaining({
            instance_id: w.instanceId,
            az: 'us-east-1a',
            mode: 'spot',
            pool_id: 't3.medium.us-east-1a',
          }),
          new_instance: expect.objectContaining({
            instance_id: replica!.instanceId,
            az: 'us-east-1c',
            mode: 'spot',
            pool_id: 't3.medium.us-east-1c',
            ami_id: w.launchImageId,
          }),
          snapshot: { used: false, ami_id: w.launchImageId },
          prices: { on_demand: null, old_spot: 0.01, new_spot: 0.013 },
          timing: expect.objectContaining({
            switch_initiated_at: new Date(start).toISOString(),
            old_instance_terminated_at: n.time,
          }),
        }),
      }),
    ])
    expect(retired).toEqual([`emergency replacement ${replica!.instanceId} launched for the interruption`])
  })

  it('delivers the queued switch report once the control plane answers again', async () => {
    const http = heldReports(
      recordingHttp([(c) => (c.path.endsWith('/termination-imminent') ? { status: 0 } : undefined)]),
    )
    const { ctx } = actionContext(ec2, w, clock, { http })
    const n = notice()
    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    expect(ctx.state.outbox()).toHaveLength(1)
    http.answer()
    expect(await ctx.link.delivered(emergencyReportKey(n.id))).toBe(true)
    // The address moved while the first version was in flight: its completed version follows, once.
    expect(await ctx.link.drain(Infinity)).toBe(true)
    const sent = http.calls.filter((c) => c.path === '/api/agents/agent-1/switch-report')
    expect(
      sent.map(
        (c) =>
          (c.body as { timing: { traffic_switched_at: string | null } }).timing.traffic_switched_at !== null,
      ),
    ).toEqual([false, true])
    expect(ctx.state.outbox()).toEqual([])
    expect(others()).toHaveLength(1)
  })

  it('withdraws the report when the replacement is lost before the control plane heard of it', async () => {
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    ec2.onLaunch((instance) => queueMicrotask(() => ec2.terminate(instance.instanceId)))
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: false })
    expect(ctx.state.outbox()).toEqual([])
    expect(log.lines.some((l) => l.msg === 'emergency replacement lost')).toBe(true)
  })

  it('launches on its own when the control plane answered 409 and then went away', async () => {
    const http = heldReports(
      recordingHttp([
        (c) =>
          c.path.endsWith('/termination-imminent') ? { status: 409, body: { success: false } } : undefined,
        () => ({ status: 503 }),
      ]),
    )
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    expect(others()).toHaveLength(1)
    expect(others()[0]!.az).toBe('us-east-1c')
  })

  it('passes a pool without capacity to the next, and launches on-demand here when no spot pool has any', async () => {
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx } = actionContext(ec2, w, clock, { http })
    ec2.failWhen('RunInstances', (p) =>
      p.get('InstanceMarketOptions.MarketType') === 'spot' ? 'InsufficientInstanceCapacity' : undefined,
    )
    const n = notice()
    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    const subnetAz = Object.fromEntries(Object.entries(w.subnets).map(([az, id]) => [id, az]))
    const tried = ec2.requests
      .filter((r) => r.action === 'RunInstances')
      .map((r) => [subnetAz[r.params.SubnetId!], r.code ?? 'ok'])
    expect(tried).toEqual([
      ['us-east-1c', 'InsufficientInstanceCapacity'],
      ['us-east-1b', 'InsufficientInstanceCapacity'],
      ['us-east-1a', 'ok'],
    ])
    const [replacement, ...more] = others()
    expect(more).toEqual([])
    expect(replacement).toMatchObject({ az: 'us-east-1a', lifecycle: 'on-demand' })
    expect(ctx.state.outbox()[0]!.body).toMatchObject({
      trigger: 'interruption',
      new_instance: {
        instance_id: replacement!.instanceId,
        mode: 'ondemand',
        pool_id: null,
        az: 'us-east-1a',
      },
      prices: { old_spot: 0.01, new_spot: null },
    })
  })

  it('without a known spot price elsewhere, launches on-demand in its own AZ', async () => {
    const bare = await startFakeEc2({ clock })
    try {
      const w2 = seedWorkload(bare, { lifecycle: 'spot', az: 'us-east-1a' })
      const http = heldReports(recordingHttp([() => ({ status: 0 })]))
      const { ctx } = actionContext(bare, w2, clock, { http })
      expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
      const launched = [...bare.state.instances.values()].filter((i) => i.instanceId !== w2.instanceId)
      expect(launched).toMatchObject([{ az: 'us-east-1a', lifecycle: 'on-demand' }])
    } finally {
      await bare.close()
    }
  })
})

describe('the Elastic IP follows the emergency replacement', () => {
  /** The queued switch report's timing (the control plane is down: it is still in the outbox). */
  const timing = (ctx: ReturnType<typeof actionContext>['ctx']) =>
    (ctx.state.outbox()[0]!.body as { timing: Record<string, string | null> }).timing
  const address = () => ec2.state.addresses.get(w.allocationId)!

  it('moves to the replacement once it runs, before the notice ends, and the report says when', async () => {
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log, retired } = actionContext(ec2, w, clock, { http })
    const n = notice()
    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    const [replica] = others()
    expect(address().instanceId).toBe(replica!.instanceId)
    // Asked once, after the replacement ran (EC2 refuses a pending instance), within the two minutes.
    const launchedAt = ec2.requests.find((r) => r.action === 'RunInstances')!.at
    const associations = ec2.requests.filter((r) => r.action === 'AssociateAddress')
    expect(associations).toHaveLength(1)
    expect(associations[0]).toMatchObject({
      status: 200,
      params: expect.objectContaining({
        AllocationId: w.allocationId,
        InstanceId: replica!.instanceId,
        AllowReassociation: 'true',
      }),
    })
    const movedAt = associations[0]!.at
    expect(movedAt).toBeGreaterThanOrEqual(launchedAt + ec2.state.durations.pendingMs)
    expect(movedAt).toBeLessThanOrEqual(Date.parse(n.time))
    expect(timing(ctx)).toMatchObject({
      traffic_switched_at: new Date(movedAt).toISOString(),
      old_instance_terminated_at: n.time,
    })
    expect(ctx.state.outbox()[0]!.body).toMatchObject({ new_instance: { public_ip: w.publicIp } })
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        msg: 'emergency replacement: Elastic IP moved',
        public_ip: w.publicIp,
        from: w.instanceId,
        to: replica!.instanceId,
      }),
    )
    expect(retired).toEqual([`emergency replacement ${replica!.instanceId} launched for the interruption`])
  })

  it('moves nothing when the interrupted instance has no Elastic IP', async () => {
    Object.assign(address(), { instanceId: undefined, associationId: undefined })
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    expect(ec2.count('AssociateAddress')).toBe(0)
    expect(address().instanceId).toBeUndefined()
    expect(timing(ctx).traffic_switched_at).toBeNull()
    expect(
      log.lines.some(
        (l) => l.msg === 'emergency replacement: the interrupted instance has no Elastic IP to move',
      ),
    ).toBe(true)
  })

  it('keeps the launch when the address cannot move, and the report says no traffic switch', async () => {
    ec2.failNext('AssociateAddress', 'UnauthorizedOperation')
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log, retired } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    const [replica, ...more] = others()
    expect(more).toEqual([])
    expect(replica!.state).toBe('running')
    expect(ec2.count('TerminateInstances')).toBe(0)
    expect(address().instanceId).toBe(w.instanceId)
    expect(ctx.state.outbox()).toHaveLength(1)
    expect(timing(ctx).traffic_switched_at).toBeNull()
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'emergency replacement: Elastic IP not moved',
        error: expect.stringContaining('UnauthorizedOperation'),
      }),
    )
    expect(retired).toHaveLength(1)
  })

  it('asks again while EC2 still sees the replacement pending', async () => {
    ec2.failNext('AssociateAddress', 'InvalidInstanceID', {
      message: "The pending instance 'i-0' is not in a valid state for this operation.",
    })
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    expect(ec2.requests.filter((r) => r.action === 'AssociateAddress').map((r) => r.status)).toEqual([
      400, 200,
    ])
    expect(address().instanceId).toBe(others()[0]!.instanceId)
    expect(timing(ctx).traffic_switched_at).not.toBeNull()
  })

  it('gives up when the replacement does not run before the notice ends', async () => {
    ec2.state.durations.pendingMs = 150_000
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    const n = notice()
    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    expect(ec2.count('AssociateAddress')).toBe(0)
    expect(timing(ctx).traffic_switched_at).toBeNull()
    const gaveUp = log.lines.find((l) => l.msg === 'emergency replacement: Elastic IP not moved')!
    expect(gaveUp.error).toMatch(/gave up waiting for .* running/)
    // The launch stands: the replacement went on to run and pass its checks.
    expect(others()[0]!.state).toBe('running')
  })

  it('leaves a report already delivered as it is', async () => {
    const http = recordingHttp([
      (c) => (c.path.endsWith('/termination-imminent') ? { status: 0 } : undefined),
    ])
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    expect(address().instanceId).toBe(others()[0]!.instanceId)
    expect(http.calls.filter((c) => c.path.endsWith('/switch-report'))).toHaveLength(1)
    expect(
      log.lines.some(
        (l) =>
          l.msg ===
          'emergency switch report delivered before the Elastic IP moved: it records no traffic switch',
      ),
    ).toBe(true)
  })

  it('in dry run, logs the association instead of making it', async () => {
    // Tagged as the emergency launch tags its replacement (the move is refused otherwise: ownership.ts).
    const target = ec2.seed.addInstance({
      imageId: w.launchImageId,
      instanceType: 't3.medium',
      subnetId: w.subnets['us-east-1b']!,
      securityGroupIds: [w.securityGroupId],
      tags: { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' },
    })
    const { ctx, log } = actionContext(ec2, w, clock, { dryRun: true })
    expect(await moveElasticIp(ctx, target.instanceId, clock.now() + 60_000)).toBeNull()
    expect(ec2.count('AssociateAddress')).toBe(0)
    expect(address().instanceId).toBe(w.instanceId)
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'dry run: EC2 write not made', action: 'AssociateAddress' }),
    )
  })
})

describe("the replacement's agent reports the emergency switch its launcher's host took down", () => {
  it('delivers the same switch report (same outbox key) once the old outbox is gone with its host', async () => {
    const down = heldReports(recordingHttp([() => ({ status: 0 })]))
    const old = actionContext(ec2, w, clock, { http: down })
    const n = notice()
    expect(await handleNotice(old.ctx, n)).toMatchObject({ ok: true })
    const [queued] = old.ctx.state.outbox()
    expect(queued!.key).toBe(emergencyReportKey(n.id))
    // EC2 ends the old host at the notice's time, its outbox and agent with it.
    const [replacement] = others()
    ec2.terminate(w.instanceId)
    // The replacement's tags stay within EC2's limits.
    const tags = Object.entries(replacement!.tags)
    expect(tags.length).toBeLessThanOrEqual(50)
    for (const [k, v] of tags) {
      expect(k.length).toBeLessThanOrEqual(128)
      expect(v.length).toBeLessThanOrEqual(256)
    }

    const up = heldReports(recordingHttp())
    const next = actionContext(ec2, { ...w, instanceId: replacement!.instanceId }, clock, { http: up })
    await reportOwnEmergencyLaunch(next.ctx)
    expect(next.ctx.state.outbox().map((o) => o.key)).toEqual([queued!.key])
    up.answer()
    expect(await next.ctx.link.drain(Infinity)).toBe(true)
    const sent = up.calls.filter((c) => c.path === '/api/agents/agent-1/switch-report')
    expect(sent).toHaveLength(1)
    // The old host's last version (the Elastic IP's move included), but EC2's launch time.
    const expected = queued!.body as { timing: Record<string, unknown> }
    expect(expected.timing.traffic_switched_at).not.toBeNull()
    expect(sent[0]!.body).toEqual({
      ...expected,
      timing: { ...expected.timing, new_instance_launched_at: expect.any(String) },
    })
    // EC2's launch time, in whole seconds.
    const launchedAt = (b: unknown) =>
      Date.parse((b as { timing: { new_instance_launched_at: string } }).timing.new_instance_launched_at)
    expect(Math.abs(launchedAt(sent[0]!.body) - launchedAt(queued!.body))).toBeLessThan(1_000)
    expect(sent[0]!.body).toMatchObject({
      trigger: 'interruption',
      old_instance: { instance_id: w.instanceId },
      new_instance: { instance_id: replacement!.instanceId },
      timing: { old_instance_terminated_at: n.time },
    })
  })

  it('queues nothing on an instance no emergency launched', async () => {
    const http = recordingHttp()
    const { ctx } = actionContext(ec2, w, clock, { http })
    await reportOwnEmergencyLaunch(ctx)
    expect(ctx.state.outbox()).toEqual([])
    expect(http.calls).toEqual([])
  })

  it('does not pass the emergency tags nor its replica id on to a later launch from the replacement', () => {
    const tags = inheritedTags(
      {
        Name: 'web',
        [`${EMERGENCY_TAG_PREFIX}Notice`]: 'n-1',
        ParentInstance: 'i-0123456789abcdef0',
        ReplicaId: 'rep-promoted',
      },
      { ParentInstance: 'i-0fedcba9876543210' },
      'spot',
    )
    expect(tags).toEqual({ Name: 'web', ParentInstance: 'i-0fedcba9876543210', ManagedBy: 'SpotOptimizer' })
  })
})
