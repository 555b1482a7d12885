import { describe, expect, it } from 'vitest'
import { runCleanup } from '../../agent/src/actions/cleanup'
import { rollingSnapshots } from '../../agent/src/actions/stateful/snapshots'
import { createImage } from '../../agent/src/ec2-operations'
import type { AgentConfig } from '../../src/protocol'
import { configWith } from './support/agent-config'
import { actionContext } from './support/context'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })

const stateful = (rpoMinutes?: number): AgentConfig => ({
  ...configWith(undefined),
  stateful: true,
  ...(rpoMinutes === undefined ? {} : { rpo_minutes: rpoMinutes }),
})

function world(config: AgentConfig | null) {
  const made = actionContext(ec2, w, clock)
  made.ctx.agentConfig = () => config
  const data = ec2.seed.addVolume({
    instanceId: w.instanceId,
    device: '/dev/sdf',
    az: 'us-east-1a',
    size: 20,
  })
  const logs = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdg', az: 'us-east-1a', size: 8 })
  return { ...made, data, logs }
}

const rolling = () =>
  [...ec2.state.snapshots.values()].filter((s) => s.tags.SpotGuardRole === 'rolling-snapshot')
const heldIds = () =>
  rolling()
    .map((s) => s.snapshotId)
    .sort()
const lastReport = (calls: Array<{ path: string; body: unknown }>) =>
  calls.filter((c) => c.path === '/api/agents/agent-1/snapshots').at(-1)?.body as {
    snapshots: Array<Record<string, unknown>>
  }

describe('rolling snapshots', () => {
  it('snapshots each data volume at the RPO, with what was written before it, and reports the set', async () => {
    const { ctx, http, data, logs } = world(stateful())
    ec2.workloadWrite(w.instanceId, '/dev/sdf', 'row 1')
    ec2.workloadWrite(w.instanceId, '/dev/sdf', 'row 2')
    ec2.workloadWrite(w.instanceId, '/dev/sdg', 'log 1')
    const snapshots = rollingSnapshots(ctx)

    const first = (await snapshots.runIfDue())!
    expect(first.taken.map((t) => t.device).sort()).toEqual(['/dev/sdf', '/dev/sdg'])
    const firstOfData = first.taken.find((t) => t.volumeId === data)!.snapshotId
    expect(ec2.snapshotContent(firstOfData).map((r) => r.data)).toEqual(['row 1', 'row 2'])
    expect(ec2.state.snapshots.get(firstOfData)!.tags).toEqual({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
      SpotGuardManaged: 'true',
      SpotGuardAgentId: 'agent-1',
      SpotGuardRole: 'rolling-snapshot',
      SpotGuardDevice: '/dev/sdf',
    })

    // Written after the first round: in the next one only, 15 minutes (the default RPO) later.
    ec2.workloadWrite(w.instanceId, '/dev/sdf', 'row 3')
    clock.advance(15 * MINUTE - 1)
    expect(await snapshots.runIfDue()).toBeNull()
    clock.advance(1)
    const second = (await snapshots.runIfDue())!
    const secondOfData = second.taken.find((t) => t.volumeId === data)!.snapshotId
    expect(ec2.snapshotContent(secondOfData).map((r) => r.data)).toEqual(['row 1', 'row 2', 'row 3'])
    expect(ec2.snapshotContent(firstOfData).map((r) => r.data)).toEqual(['row 1', 'row 2'])
    expect(ec2.state.snapshots.get(firstOfData)!.state).toBe('completed')

    expect(await ctx.link.delivered('rolling-snapshots')).toBe(true)
    const report = lastReport(http.calls)
    expect(report.snapshots.map((s) => s.snapshot_id).sort()).toEqual(heldIds())
    expect(report.snapshots).toContainEqual({
      snapshot_id: firstOfData,
      volume_id: data,
      device: '/dev/sdf',
      started_at: new Date(clock.now() - 15 * MINUTE).toISOString(),
      state: 'completed',
      completed_at: new Date(ec2.state.snapshots.get(firstOfData)!.completedAt!).toISOString(),
    })
    expect(report.snapshots.filter((s) => s.volume_id === logs && s.state === 'pending')).toHaveLength(1)

    // A restarted agent counts the period from the newest rolling snapshot.
    clock.advance(10 * MINUTE)
    expect(await rollingSnapshots(ctx).runIfDue()).toBeNull()
  })

  it('takes none unless the control plane turned the stateful mode on', async () => {
    const { ctx } = world(null)
    for (const config of [configWith(undefined), { ...stateful(), enabled: false }, null]) {
      ctx.agentConfig = () => config
      clock.advance(DAY)
      expect(await rollingSnapshots(ctx).runIfDue()).toBeNull()
    }
    expect(ec2.requests.filter((r) => r.action === 'CreateSnapshot')).toEqual([])
  })

  it('never has more than 5 pending per volume: skips at the limit, and when EC2 answers it is exceeded', async () => {
    const { ctx, data, logs, log } = world(stateful(5))
    ec2.state.durations.snapshotMs = DAY
    // Five snapshots of the logs volume that are not the agent's (someone's backup tool) keep EC2 at its limit.
    for (let i = 0; i < 5; i++) await ctx.ec2.write('CreateSnapshot', { VolumeId: logs })
    const snapshots = rollingSnapshots(ctx)
    for (let i = 0; i < 5; i++) {
      const round = (await snapshots.runIfDue())!
      expect(round.taken.map((t) => t.volumeId)).toEqual([data])
      expect(round.skipped).toEqual([
        { volumeId: logs, device: '/dev/sdg', reason: 'ConcurrentSnapshotLimitExceeded' },
      ])
      clock.advance(5 * MINUTE)
    }
    const sixth = (await snapshots.runIfDue())!
    expect(sixth.taken).toEqual([])
    expect(sixth.skipped).toContainEqual({
      volumeId: data,
      device: '/dev/sdf',
      reason: '5 snapshots pending',
    })
    // Only five CreateSnapshot calls of the agent reached EC2 for the data volume.
    const calls = ec2.requests.filter((r) => r.action === 'CreateSnapshot' && r.params.VolumeId === data)
    expect(calls).toHaveLength(5)
    expect(rolling().filter((s) => s.volumeId === data && s.state === 'pending')).toHaveLength(5)
    expect(log.lines.some((e) => /pending as EC2 allows/.test(e.msg))).toBe(true)
  })

  it('keeps the newest 4 and the newest of each of the last 7 days over 8 days, and one an AMI uses', async () => {
    const { ctx, http, data } = world(stateful(360))
    // Only the data volume, to read the set by times.
    ec2.state.volumes.delete([...ec2.state.volumes.keys()].find((id) => id !== data)!)
    const snapshots = rollingSnapshots(ctx)
    const taken: string[][] = []
    for (let day = 0; day <= 8; day++) {
      taken.push([])
      for (let slot = 0; slot < 4 && !(day === 8 && slot > 0); slot++) {
        const round = (await snapshots.runIfDue())!
        taken[day]!.push(round.taken[0]!.snapshotId)
        if (day === 1 && slot === 0) {
          // An AMI made from the first day's 06:00 snapshot (someone registered one): EC2 refuses to delete it.
          const imageId = await createImage(ctx.ec2, w.instanceId, 'from-rolling', true, {})
          ec2.settle()
          ec2.state.images.get(imageId)!.snapshotId = taken[0]![1]
        }
        clock.advance(6 * HOUR)
      }
    }
    clock.advance(-6 * HOUR)
    const expected = [
      taken[8]![0]!, // pending
      ...taken[7]!, // the newest 4 completed
      ...[2, 3, 4, 5, 6].map((d) => taken[d]![3]!), // the newest of each day, today's 7 days back
      taken[0]![1]!, // an AMI's
    ].sort()
    expect(heldIds()).toEqual(expected)
    await ctx.link.delivered('rolling-snapshots')
    expect(
      lastReport(http.calls)
        .snapshots.map((s) => s.snapshot_id)
        .sort(),
    ).toEqual(expected)
    const refused = ec2.requests.filter(
      (r) => r.action === 'DeleteSnapshot' && r.code === 'InvalidSnapshot.InUse',
    )
    expect(refused.length).toBeGreaterThan(0)
  })

  it('survives the hourly cleanup: what retention keeps stays, however old, while the rest past 7 days goes', async () => {
    const { ctx, data } = world(stateful(360))
    ec2.state.volumes.delete([...ec2.state.volumes.keys()].find((id) => id !== data)!)
    const snapshots = rollingSnapshots(ctx)
    const taken: string[] = []
    for (let i = 0; i < 12; i++) {
      taken.push((await snapshots.runIfDue())!.taken[0]!.snapshotId)
      clock.advance(6 * HOUR)
    }
    // The stateful mode turned off (or the agent stopped): no round for 10 days.
    clock.advance(10 * DAY)
    ec2.settle()
    expect(await runCleanup(ctx)).toMatchObject({ ok: true })
    // The newest completed ones of the volume stay, 10 days old; the older are the cleanup's.
    expect(heldIds()).toEqual(taken.slice(-4).sort())
  })
})
