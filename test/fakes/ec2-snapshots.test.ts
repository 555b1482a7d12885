import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { launchRunning } from './ec2-launch'

const fx = useFakeEc2()

const rolling = [
  { Key: 'SpotGuardManaged', Value: 'true' },
  { Key: 'SpotGuardRole', Value: 'rolling-snapshot' },
]

/** The seeded workload with a data volume at /dev/sdf. */
const dataVolume = () => fx.ec2.seed.addVolume({ instanceId: fx.w.instanceId, device: '/dev/sdf', size: 20 })

const snapshot = (volumeId: string) =>
  fx.sdk.send(
    new CreateSnapshotCommand({
      VolumeId: volumeId,
      Description: 'rolling',
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: rolling }],
    }),
  )

describe('fake EC2 volume snapshots through @aws-sdk/client-ec2', () => {
  it('freezes the content at creation: a volume made from the snapshot holds what was written before it, not after', async () => {
    const volumeId = dataVolume()
    fx.ec2.workloadWrite(fx.w.instanceId, '/dev/sdf', 'order 1')
    fx.clock.advance(60_000)
    fx.ec2.workloadWrite(fx.w.instanceId, '/dev/sdf', 'order 2')
    const started = await snapshot(volumeId)
    expect(started).toMatchObject({ State: 'pending', VolumeId: volumeId, VolumeSize: 20, Tags: rolling })
    const snapshotId = started.SnapshotId!
    fx.clock.advance(60_000)
    fx.ec2.workloadWrite(fx.w.instanceId, '/dev/sdf', 'order 3')

    const restore = (az: string) =>
      fx.sdk.send(new CreateVolumeCommand({ AvailabilityZone: az, SnapshotId: snapshotId }))
    // 60 s after the request it is complete (snapshotMs), never before
    const listed = await fx.sdk.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [
          { Name: 'volume-id', Values: [volumeId] },
          { Name: 'tag:SpotGuardRole', Values: ['rolling-snapshot'] },
        ],
      }),
    )
    expect(listed.Snapshots?.map((s) => [s.SnapshotId, s.State, s.CompletionTime?.getTime()])).toEqual([
      [snapshotId, 'completed', started.StartTime!.getTime() + 60_000],
    ])

    const restored = await restore('us-east-1b')
    expect(restored).toMatchObject({ SnapshotId: snapshotId, Size: 20, AvailabilityZone: 'us-east-1b' })
    expect(fx.ec2.volumeContent(restored.VolumeId!).map((r) => [r.seq, r.data])).toEqual([
      [1, 'order 1'],
      [2, 'order 2'],
    ])
    expect(fx.ec2.volumeContent(volumeId).map((r) => r.data)).toEqual(['order 1', 'order 2', 'order 3'])
    expect(fx.ec2.snapshotContent(snapshotId).map((r) => r.data)).toEqual(['order 1', 'order 2'])

    // A workload on the restored volume continues its numbering: the loss is seq 3, what came after the snapshot.
    const replacement = await launchRunning(fx, 'us-east-1b')
    fx.ec2.settle()
    await fx.sdk.send(
      new AttachVolumeCommand({ VolumeId: restored.VolumeId!, InstanceId: replacement, Device: '/dev/sdf' }),
    )
    fx.ec2.settle()
    expect(fx.ec2.workloadWrite(replacement, '/dev/sdf', 'order 4')).toMatchObject({
      seq: 3,
      instanceId: replacement,
    })
  })

  it('refuses to restore a pending snapshot and a sixth pending snapshot of one volume', async () => {
    const volumeId = dataVolume()
    const first = await snapshot(volumeId)
    await expect(
      fx.sdk.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: first.SnapshotId })),
    ).rejects.toMatchObject({ name: 'IncorrectState' })
    for (let n = 0; n < 4; n++) await snapshot(volumeId)
    await expect(snapshot(volumeId)).rejects.toMatchObject({
      name: 'ConcurrentSnapshotLimitExceeded',
      $metadata: { httpStatusCode: 400 },
    })
    fx.ec2.advance(first.SnapshotId)
    expect((await snapshot(volumeId)).State).toBe('pending')
    await fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: first.SnapshotId }))
    const left = await fx.sdk.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: [volumeId] }] }),
    )
    expect(left.Snapshots?.map((s) => s.State)).toEqual(Array(5).fill('pending'))
  })

  it('gives a replica a copy from a snapshot, never the live volume, and the workload writes only where told', async () => {
    const volumeId = dataVolume()
    fx.ec2.writeWorkloads()
    const { SnapshotId } = await snapshot(volumeId)
    fx.ec2.advance(SnapshotId)
    const replica = await launchRunning(fx, 'us-east-1a', {
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { SnapshotId, DeleteOnTermination: false } }],
    })
    await expect(
      fx.sdk.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: replica, Device: '/dev/sdg' })),
    ).rejects.toMatchObject({ name: 'VolumeInUse' })
    const copy = [...fx.ec2.state.volumes.values()].find((v) => v.attachment?.instanceId === replica)!
    expect(copy).toMatchObject({ snapshotId: SnapshotId, size: 20, az: 'us-east-1a' })

    const written = fx.ec2.writeWorkloads({ instanceIds: [fx.w.instanceId] })
    expect(written.map((r) => [r.volumeId, r.seq, r.instanceId])).toEqual([[volumeId, 2, fx.w.instanceId]])
    expect(fx.ec2.volumeContent(copy.volumeId).map((r) => r.seq)).toEqual([1])
    expect(() => fx.ec2.workloadWrite(replica, '/dev/sdg', 'x')).toThrow(/no volume attached at \/dev\/sdg/)
  })
})
