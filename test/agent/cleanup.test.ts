import { describe, expect, it } from 'vitest'
import { runCleanup } from '../../agent/src/actions/cleanup'
import { launchLike } from '../../agent/src/actions/launch'
import { createImage, describeInstance } from '../../agent/src/ec2-operations'
import { actionContext } from './support/context'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

const DAY = 86_400_000
useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })

const tags = { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' }

describe('runCleanup', () => {
  it('deletes old SpotGuard AMIs and snapshots, never the AMI a running managed instance uses', async () => {
    const { ctx, http } = actionContext(ec2, w, clock)
    const inUse = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-keep', true, tags)
    const unused = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-old', true, tags)
    const orphan = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-orphan', true, tags)
    const notOurs = await createImage(ctx.ec2, w.instanceId, 'customer-backup', true, {})
    ec2.settle()
    const orphanSnapshot = ec2.state.images.get(orphan)!.snapshotId!
    ec2.state.images.delete(orphan) // its AMI is gone; the snapshot stays behind
    const source = (await describeInstance(ctx.ec2, w.instanceId))!
    const user = await launchLike(ctx, source, {
      imageId: inUse,
      instanceType: 't3.medium',
      az: 'us-east-1b',
      mode: 'spot',
      tags: {},
      clientToken: 'sg-test-1',
    })
    ec2.settle()

    clock.advance(31 * DAY)
    const recent = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-recent', true, tags)
    ec2.settle()
    const result = await runCleanup(ctx)
    expect(result).toMatchObject({ ok: true })

    expect(ec2.state.images.has(inUse)).toBe(true)
    expect(ec2.state.images.has(recent)).toBe(true)
    expect(ec2.state.images.has(notOurs)).toBe(true)
    expect(ec2.state.images.has(unused)).toBe(false)
    expect(ec2.state.snapshots.has(orphanSnapshot)).toBe(false)
    expect(ec2.state.snapshots.has(ec2.state.images.get(inUse)!.snapshotId!)).toBe(true)
    expect(ec2.instance(user)!.state).toBe('running')

    await ctx.link.delivered(`cleanup:${clock.now()}`)
    const report = http.calls.find((c) => c.path.endsWith('/cleanup-report'))!.body as Record<string, any>
    expect(report.amis.deleted_amis).toEqual([unused])
    expect(report.amis.deleted_snapshots).toHaveLength(1)
    expect(report.snapshots.deleted).toEqual([orphanSnapshot])
    expect(report.snapshots.type).toBe('snapshots')
    expect(report.amis.type).toBe('amis')
    expect(Date.parse(report.amis.cutoff_date)).toBe(clock.now() - 30 * DAY)
  })

  it('deletes old snapshots whose AMI is gone', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    for (let i = 0; i < 3; i++) await createImage(ctx.ec2, w.instanceId, `SpotOptimizer-p${i}`, true, tags)
    ec2.settle()
    for (const id of [...ec2.state.images.keys()])
      if (ec2.state.images.get(id)!.name.startsWith('SpotOptimizer-p')) ec2.state.images.delete(id)
    clock.advance(8 * DAY)
    await runCleanup(ctx)
    expect([...ec2.state.snapshots.values()].filter((s) => s.tags.ManagedBy === 'SpotOptimizer')).toEqual([])
  })

  it('keeps the newest AMI of each workload past the age limit: a switch’s newer than a backup supersedes it', async () => {
    const { ctx } = actionContext(ec2, w, clock)
    const backup = { ...tags, SpotGuardBackup: 'periodic' }
    const other = { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-db-1' }
    const olderBackup = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-b1', true, backup)
    const otherOnly = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-db', true, other)
    clock.advance(1000)
    const newerBackup = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-b2', true, backup)
    clock.advance(1000)
    const switchImage = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-switch', true, tags)
    ec2.settle()
    clock.advance(31 * DAY)
    // A newer image still pending does not displace the newest available one.
    const pending = await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-pending', true, backup)

    expect(await runCleanup(ctx)).toMatchObject({ ok: true })
    expect(ec2.state.images.has(olderBackup)).toBe(false)
    expect(ec2.state.images.has(newerBackup)).toBe(false)
    expect(ec2.state.images.get(switchImage)?.state).toBe('available')
    expect(ec2.state.images.get(otherOnly)?.state).toBe('available')
    expect(ec2.state.images.has(pending)).toBe(true)
  })

  it('reports a failure instead of crashing when EC2 refuses', async () => {
    ec2.deny('DescribeImages')
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await runCleanup(ctx)
    expect(result).toMatchObject({ ok: false, code: 'CleanupFailed' })
    await ctx.link.delivered(`cleanup:${clock.now()}`)
    const report = http.calls[0]!.body as Record<string, any>
    expect(report.amis.error).toMatch(/UnauthorizedOperation/)
  })
})
