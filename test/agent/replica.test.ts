import { describe, expect, it } from 'vitest'
import { handleNotice } from '../../agent/src/actions/notices'
import { launchReplica, runPromoteReplica, runTerminateReplica } from '../../agent/src/actions/replica'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })

const others = () => [...ec2.state.instances.values()].filter((i) => i.instanceId !== w.instanceId)
const interruption = {
  kind: 'interruption' as const,
  id: 'n1',
  action: 'terminate',
  time: '2026-01-01T00:02:00Z',
}

/** A promote_replica command for a replica on `instanceId`. */
function promote(
  replicaId: string,
  instanceId: string,
  extra: Record<string, string | null | undefined> = {},
) {
  return {
    id: `c-${replicaId}`,
    command_type: 'promote_replica' as const,
    instance_id: null,
    priority: 100,
    created_at: '',
    expires_at: null,
    replica_id: replicaId,
    replica_instance_id: instanceId,
    ...extra,
  }
}

/** A replica instance in another AZ that EC2 still shows pending, tagged as SpotGuard launches it. */
function pendingReplica(replicaId: string) {
  const source = ec2.instance(w.instanceId)!
  return ec2.seed.addInstance({
    imageId: w.launchImageId,
    instanceType: 't3.medium',
    subnetId: w.subnets['us-east-1b']!,
    securityGroupIds: source.securityGroupIds,
    tags: { ReplicaId: replicaId, LogicalAgentId: 'agent-web-1', ManagedBy: 'SpotOptimizer' },
    lifecycle: 'spot',
    state: 'pending',
  })
}

describe('replicas', () => {
  it('launches a listed replica once, reports its real id, then syncing and ready', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    const order = { replicaId: 'rep-1', poolId: 't3.medium.us-east-1c', az: null, replicaType: 'manual' }
    expect(await launchReplica(ctx, order)).toMatchObject({ ok: true })
    expect(await launchReplica(ctx, order)).toMatchObject({ ok: true })
    const [replica, ...more] = others()
    expect(more).toEqual([])
    expect(replica).toMatchObject({ az: 'us-east-1c', lifecycle: 'spot', subnetId: w.subnets['us-east-1c'] })
    expect(replica!.tags).toMatchObject({
      ReplicaId: 'rep-1',
      ReplicaType: 'manual',
      ParentInstance: w.instanceId,
      ManagedBy: 'SpotOptimizer',
    })
    await ctx.link.delivered('replica-status:rep-1:ready')
    expect(http.calls.map((c) => [c.method, c.path, (c.body as { status?: string }).status])).toEqual([
      ['PUT', '/api/agents/agent-1/replicas/rep-1', 'syncing'],
      ['POST', '/api/agents/agent-1/replicas/rep-1/status', 'syncing'],
      ['POST', '/api/agents/agent-1/replicas/rep-1/status', 'ready'],
    ])
    expect((http.calls[0]!.body as { instance_id: string }).instance_id).toBe(replica!.instanceId)
  })

  it('takes a replica another instance of the workload launched with its client token as launched, not failed', async () => {
    // A switch's new instance acts for the workload before the old primary retires: both launch the
    // listed replica, with the same ClientToken but another ParentInstance (and image).
    const order = { replicaId: 'rep-9', poolId: 't3.medium.us-east-1c', az: null, replicaType: 'emergency' }
    const first = actionContext(ec2, w, clock)
    expect(await launchReplica(first.ctx, order)).toMatchObject({ ok: true })
    const source = ec2.instance(w.instanceId)!
    const sibling = ec2.seed.addInstance({
      imageId: w.launchImageId,
      instanceType: 't3.medium',
      subnetId: source.subnetId,
      securityGroupIds: source.securityGroupIds,
      tags: { LogicalAgentId: 'agent-web-1' },
      lifecycle: 'spot',
      state: 'running',
    })
    const second = actionContext(ec2, w, clock)
    const ctx = { ...second.ctx, self: { ...second.ctx.self, instanceId: sibling.instanceId } }

    expect(await launchReplica(ctx, order)).toMatchObject({ ok: true })
    const replicas = others().filter((i) => i.instanceId !== sibling.instanceId)
    expect(replicas.map((i) => [i.tags.ReplicaId, i.state])).toEqual([['rep-9', 'running']])
    await ctx.link.delivered('replica-status:rep-9:ready')
    expect(second.http.calls.map((c) => [c.method, c.path, (c.body as { status?: string }).status])).toEqual([
      ['PUT', '/api/agents/agent-1/replicas/rep-9', 'syncing'],
      ['POST', '/api/agents/agent-1/replicas/rep-9/status', 'syncing'],
      ['POST', '/api/agents/agent-1/replicas/rep-9/status', 'ready'],
    ])
    expect((second.http.calls[0]!.body as { instance_id: string }).instance_id).toBe(replicas[0]!.instanceId)
  })

  it("launches a replica of the type its pool names, the workload's own image", async () => {
    const { ctx } = actionContext(ec2, w, clock)
    const order = { replicaId: 'rep-3', poolId: 't3a.medium.us-east-1c', az: null, replicaType: 'manual' }
    expect(await launchReplica(ctx, order)).toMatchObject({ ok: true })
    expect(others()).toMatchObject([
      { instanceType: 't3a.medium', az: 'us-east-1c', imageId: w.launchImageId },
    ])
  })

  it('reports a failed launch as failed', async () => {
    ec2.failWhen('RunInstances', () => 'InsufficientInstanceCapacity')
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await launchReplica(ctx, {
      replicaId: 'rep-2',
      poolId: 't3.medium.us-east-1b',
      az: null,
      replicaType: 'emergency',
    })
    expect(result).toMatchObject({ ok: false, code: 'InsufficientInstanceCapacity' })
    await ctx.link.delivered('replica-status:rep-2:failed')
    expect(http.calls.map((c) => (c.body as { status?: string }).status)).toEqual(['failed'])
  })

  it('an agent stopping while its replica boots leaves the replica running: a promotion may already have made it the workload', async () => {
    const stop = new AbortController()
    ec2.onLaunch(() => stop.abort()) // the host reaches its notice's time right after RunInstances
    const { ctx } = actionContext(ec2, w, clock, { signal: stop.signal })
    const result = await launchReplica(ctx, {
      replicaId: 'rep-3',
      poolId: 't3.medium.us-east-1c',
      az: null,
      replicaType: 'emergency',
    })
    expect(result).toMatchObject({ ok: false, code: 'Stopped' })
    expect(ec2.count('TerminateInstances')).toBe(0)
    expect(others().map((i) => [i.tags.ReplicaId, i.state])).toEqual([['rep-3', 'pending']])
  })

  it('promotion moves the Elastic IP to the replica and steps this agent down', async () => {
    const { ctx, retired, http } = actionContext(ec2, w, clock)
    await launchReplica(ctx, {
      replicaId: 'rep-3',
      poolId: 't3.medium.us-east-1b',
      az: null,
      replicaType: 'manual',
    })
    const replica = others()[0]!
    const result = await runPromoteReplica(ctx, promote('rep-3', replica.instanceId))
    expect(result).toMatchObject({ ok: true })
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(replica.instanceId)
    expect(retired).toHaveLength(1)
    await ctx.link.delivered('address-moved:rep-3')
    expect(http.calls.at(-1)).toMatchObject({
      path: '/api/agents/agent-1/replicas/rep-3/address-moved',
      body: { public_ip: w.publicIp, allocation_id: w.allocationId },
    })
  })

  it('on an interruption, the old primary waits for a replica still pending, then moves the address the command names', async () => {
    const { ctx, retired } = actionContext(ec2, w, clock)
    const pending = pendingReplica('rep-p')
    const notAfter = new Date(clock.now() + 120_000).toISOString()
    const result = await runPromoteReplica(
      ctx,
      promote('rep-p', pending.instanceId, {
        old_instance_id: w.instanceId,
        old_public_ip: w.publicIp,
        not_after: notAfter,
      }),
    )
    expect(result).toMatchObject({ ok: true })
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(pending.instanceId)
    expect(retired).toEqual(['replica rep-p promoted'])
  })

  it("moves the Elastic IP the old primary holds when the public IP the command names is not one (the instance's own, registered before a switch moved the address onto it)", async () => {
    const { ctx } = actionContext(ec2, w, clock)
    const pending = pendingReplica('rep-i')
    const result = await runPromoteReplica(
      ctx,
      promote('rep-i', pending.instanceId, {
        old_instance_id: w.instanceId,
        old_public_ip: '54.0.0.9',
        not_after: new Date(clock.now() + 120_000).toISOString(),
      }),
    )
    expect(result).toMatchObject({ ok: true, message: expect.stringContaining(w.publicIp) })
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(pending.instanceId)
  })

  it('gives the move up before its own interruption ends when the replica does not run, and says so', async () => {
    const { ctx, retired } = actionContext(ec2, w, clock)
    const pending = pendingReplica('rep-s')
    // EC2 keeps it pending past the interruption.
    ec2.instance(pending.instanceId)!.stateSince = clock.now() + 3_600_000
    const notAfter = new Date(clock.now() + 20_000).toISOString()
    const result = await runPromoteReplica(
      ctx,
      promote('rep-s', pending.instanceId, { old_public_ip: w.publicIp, not_after: notAfter }),
    )
    expect(result).toMatchObject({ ok: false, code: 'ReplicaNotRunning' })
    expect(clock.now()).toBeLessThan(Date.parse(notAfter))
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(w.instanceId)
    expect(retired).toHaveLength(1)
  })

  it("the promoted instance's own agent takes the address after the old host died", async () => {
    const { ctx: old } = actionContext(ec2, w, clock)
    await launchReplica(old, {
      replicaId: 'rep-o',
      poolId: 't3.medium.us-east-1b',
      az: null,
      replicaType: 'emergency',
    })
    const replica = others()[0]!
    ec2.terminate(w.instanceId)
    ec2.settle()
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBeUndefined()
    const { ctx, retired, http } = actionContext(ec2, { ...w, instanceId: replica.instanceId }, clock)
    const result = await runPromoteReplica(
      ctx,
      promote('rep-o', replica.instanceId, { old_instance_id: w.instanceId, old_public_ip: w.publicIp }),
    )
    expect(result).toMatchObject({ ok: true })
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(replica.instanceId)
    expect(retired).toEqual([])
    await ctx.link.delivered('address-moved:rep-o')
    expect(http.calls.map((c) => c.path)).toContain('/api/agents/agent-1/replicas/rep-o/address-moved')
  })

  it('terminate_replica ends the instance and reports it terminated', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    await launchReplica(ctx, {
      replicaId: 'rep-4',
      poolId: 't3.medium.us-east-1b',
      az: null,
      replicaType: 'manual',
    })
    const replica = others()[0]!
    await runTerminateReplica(ctx, {
      id: 'c-t',
      command_type: 'terminate_replica',
      instance_id: null,
      priority: 75,
      created_at: '',
      expires_at: null,
      replica_id: 'rep-4',
      replica_instance_id: replica.instanceId,
    })
    expect(['shutting-down', 'terminated']).toContain(ec2.instance(replica.instanceId)!.state)
    await ctx.link.delivered('replica-status:rep-4:terminated')
    expect(http.calls.at(-1)!.body).toEqual({ status: 'terminated' })
  })
})

describe('notices', () => {
  it('an interruption is told to the control plane at once; a promoted replica ends it there', async () => {
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent')
          ? {
              status: 200,
              body: { success: true, action: 'replica_promoted', new_instance_id: 'i-0aaaabbbbccccdddd' },
            }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, interruption)).toMatchObject({ ok: true })
    expect(http.calls).toHaveLength(1)
    expect(http.calls[0]!.body).toMatchObject({
      instance_id: w.instanceId,
      termination_time: '2026-01-01T00:02:00Z',
    })
    expect(others()).toEqual([])
  })

  it('retries the notice within the 2-minute budget while the control plane is unreachable', async () => {
    let failures = 3
    const http = recordingHttp([
      (c) => (c.path.endsWith('/termination-imminent') && failures-- > 0 ? { status: 0 } : undefined),
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(
      await handleNotice(ctx, { ...interruption, time: new Date(clock.now() + 120_000).toISOString() }),
    ).toMatchObject({ ok: true })
    expect(http.calls).toHaveLength(4)
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeLessThan(5_000)
  })

  it('with no replica (409), launches an emergency replacement from the newest SpotGuard AMI', async () => {
    const amiOld = ec2.seed.addImage({
      ownerId: 'self',
      tags: { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' },
      createdAt: clock.now() - 86_400_000,
    })
    const amiNew = ec2.seed.addImage({
      ownerId: 'self',
      tags: { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' },
      createdAt: clock.now() - 3_600_000,
    })
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent')
          ? {
              status: 409,
              body: { success: false, error: 'No replica available', action: 'emergency_snapshot_required' },
            }
          : undefined,
      (c) =>
        c.path.endsWith('/create-emergency-replica')
          ? {
              status: 201,
              body: {
                success: true,
                replica_id: 'rep-e',
                instance_id: 'pending-rep-e',
                pool: { id: 't3.medium.us-east-1c', name: 'x', az: 'us-east-1c' },
              },
            }
          : undefined,
    ])
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    const result = await handleNotice(ctx, interruption)
    expect(result).toMatchObject({ ok: true })
    if (result.ok) expect(result.message).toContain(`spotguard_ami ${amiNew}`)
    const [replica] = others()
    expect(replica).toMatchObject({ imageId: amiNew, az: 'us-east-1c' })
    expect(replica!.imageId).not.toBe(amiOld)
    expect(log.lines.find((l) => l.msg === 'replica launched')).toMatchObject({
      image_source: 'spotguard_ami',
    })
    expect(http.calls.find((c) => c.path.endsWith('/create-emergency-replica'))!.body).toMatchObject({
      signal_type: 'termination-notice',
      termination_time: '2026-01-01T00:02:00Z',
    })
  })

  it('without a SpotGuard AMI, the emergency launch uses the launch AMI and says so', async () => {
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent') ? { status: 409, body: { success: false } } : undefined,
      (c) =>
        c.path.endsWith('/create-emergency-replica')
          ? {
              status: 201,
              body: { replica_id: 'rep-f', pool: { id: 't3.medium.us-east-1b', az: 'us-east-1b' } },
            }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    const result = await handleNotice(ctx, interruption)
    if (result.ok) expect(result.message).toContain(`launch_ami ${w.launchImageId}`)
    expect(others()[0]!.imageId).toBe(w.launchImageId)
  })

  it('an emergency replica planned on-demand is launched on-demand, and its report says what it launched', async () => {
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent') ? { status: 409, body: { success: false } } : undefined,
      (c) =>
        c.path.endsWith('/create-emergency-replica')
          ? {
              status: 201,
              body: {
                replica_id: 'rep-od',
                mode: 'ondemand',
                pool: { id: 't3.medium.us-east-1a', az: 'us-east-1a' },
              },
            }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, interruption)).toMatchObject({ ok: true })
    const [replica, ...more] = others()
    expect(more).toEqual([])
    expect(replica).toMatchObject({ az: 'us-east-1a', lifecycle: 'on-demand' })
    await ctx.link.delivered('replica-put:rep-od')
    expect(http.calls.find((c) => c.method === 'PUT')!.body).toMatchObject({
      instance_id: replica!.instanceId,
      mode: 'ondemand',
    })
  })

  it('a rebalance asks for an emergency replica, records the signal and launches the replica', async () => {
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/create-emergency-replica')
          ? {
              status: 201,
              body: {
                replica_id: 'rep-r',
                instance_id: 'placeholder',
                pool: { id: 't3.medium.us-east-1b', az: 'us-east-1b' },
              },
            }
          : undefined,
      (c) =>
        c.path.endsWith('/rebalance-recommendation')
          ? { status: 200, body: { success: true, action: 'monitor' } }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(
      await handleNotice(ctx, { kind: 'rebalance', id: 'r1', noticeTime: '2026-01-01T00:00:00Z' }),
    ).toMatchObject({ ok: true })
    expect(http.calls.slice(0, 2).map((c) => c.path)).toEqual([
      '/api/agents/agent-1/create-emergency-replica',
      '/api/agents/agent-1/rebalance-recommendation',
    ])
    expect(others()).toHaveLength(1)
    await ctx.link.delivered('replica-status:rep-r:ready')
    expect(http.calls.some((c) => (c.body as { status?: string }).status === 'ready')).toBe(true)
  })

  it('a rebalance answered by a replica that already runs launches nothing', async () => {
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/create-emergency-replica')
          ? {
              status: 201,
              body: {
                replica_id: 'rep-m',
                instance_id: 'i-0123456789abcdef0',
                pool: { id: 't3.medium.us-east-1b' },
              },
            }
          : undefined,
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    await handleNotice(ctx, { kind: 'rebalance', id: 'r2', noticeTime: '2026-01-01T00:00:00Z' })
    expect(others()).toEqual([])
  })
})
