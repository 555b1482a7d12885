import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateImageCommand,
  CreateNetworkInterfaceCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { launchRunning } from './ec2-launch'

const fx = useFakeEc2()

const dataVolumeTags = [
  { Key: 'SpotGuardManaged', Value: 'true' },
  { Key: 'SpotGuardRole', Value: 'data-volume' },
]

async function createVolume(az: string) {
  const out = await fx.sdk.send(
    new CreateVolumeCommand({
      AvailabilityZone: az,
      Size: 20,
      VolumeType: 'gp3',
      TagSpecifications: [{ ResourceType: 'volume', Tags: dataVolumeTags }],
    }),
  )
  return out.VolumeId!
}

const volume = async (volumeId: string) =>
  (await fx.sdk.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!

describe('fake EC2 volumes through @aws-sdk/client-ec2', () => {
  it('creates a tagged volume that becomes available by the clock, then attaches it in the same AZ', async () => {
    const created = await fx.sdk.send(
      new CreateVolumeCommand({
        AvailabilityZone: 'us-east-1a',
        Size: 20,
        TagSpecifications: [{ ResourceType: 'volume', Tags: dataVolumeTags }],
      }),
    )
    expect(created).toMatchObject({
      State: 'creating',
      Size: 20,
      AvailabilityZone: 'us-east-1a',
      VolumeType: 'gp3',
    })
    expect(created.Tags).toEqual(dataVolumeTags)
    const volumeId = created.VolumeId!
    const attach = () =>
      fx.sdk.send(
        new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: fx.w.instanceId, Device: '/dev/sdf' }),
      )
    await expect(attach()).rejects.toMatchObject({ name: 'IncorrectState' })

    fx.clock.advance(5_000)
    expect((await volume(volumeId)).State).toBe('available')
    expect(await attach()).toMatchObject({
      State: 'attaching',
      Device: '/dev/sdf',
      InstanceId: fx.w.instanceId,
    })
    expect((await volume(volumeId)).State).toBe('in-use')

    fx.clock.advance(5_000)
    const found = await fx.sdk.send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: 'attachment.instance-id', Values: [fx.w.instanceId] },
          { Name: 'tag:SpotGuardRole', Values: ['data-volume'] },
        ],
      }),
    )
    expect(found.Volumes?.map((v) => [v.VolumeId, v.State, v.Attachments?.[0]?.State])).toEqual([
      [volumeId, 'in-use', 'attached'],
    ])
    const described = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [fx.w.instanceId] }))
    expect(described.Reservations![0]!.Instances![0]!.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/sdf',
        Ebs: {
          VolumeId: volumeId,
          Status: 'attached',
          AttachTime: new Date(fx.clock.now() - 5_000),
          DeleteOnTermination: false,
        },
      },
    ])
  })

  it('attaches a volume to one instance of its own AZ at a free device, and deletes it only once detached', async () => {
    const volumeId = await createVolume('us-east-1a')
    const elsewhere = await createVolume('us-east-1b')
    const taken = await createVolume('us-east-1a')
    fx.ec2.settle()
    const other = await launchRunning(fx, 'us-east-1a')

    await expect(
      fx.sdk.send(
        new AttachVolumeCommand({ VolumeId: elsewhere, InstanceId: fx.w.instanceId, Device: '/dev/sdf' }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidVolume.ZoneMismatch',
      message: `The volume '${elsewhere}' is not in the same availability zone as instance '${fx.w.instanceId}'`,
    })
    await fx.sdk.send(
      new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: fx.w.instanceId, Device: '/dev/sdf' }),
    )
    await expect(
      fx.sdk.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/sdf' })),
    ).rejects.toMatchObject({ name: 'VolumeInUse' })
    await expect(
      fx.sdk.send(
        new AttachVolumeCommand({ VolumeId: taken, InstanceId: fx.w.instanceId, Device: '/dev/sdf' }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: "Invalid value '/dev/sdf' for unixDevice. Attachment point /dev/sdf is already in use",
    })
    await expect(fx.sdk.send(new DeleteVolumeCommand({ VolumeId: volumeId }))).rejects.toMatchObject({
      name: 'VolumeInUse',
      message: `Volume ${volumeId} is currently attached to ${fx.w.instanceId}`,
    })

    fx.ec2.settle()
    const detached = await fx.sdk.send(
      new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: fx.w.instanceId, Force: true }),
    )
    expect(detached.State).toBe('detaching')
    await expect(
      fx.sdk.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/sdf' })),
    ).rejects.toMatchObject({ name: 'VolumeInUse' })
    fx.clock.advance(5_000)
    expect(await volume(volumeId)).toMatchObject({ State: 'available', Attachments: [] })
    await fx.sdk.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/sdf' }))
    fx.ec2.settle()
    expect((await volume(volumeId)).Attachments?.[0]).toMatchObject({ InstanceId: other, State: 'attached' })

    await fx.sdk.send(new DeleteVolumeCommand({ VolumeId: taken }))
    await expect(fx.sdk.send(new DescribeVolumesCommand({ VolumeIds: [taken] }))).rejects.toMatchObject({
      name: 'InvalidVolume.NotFound',
    })
  })

  it('on termination deletes the volumes marked DeleteOnTermination and leaves the others available', async () => {
    const instanceId = await launchRunning(fx, 'us-east-1b', {
      BlockDeviceMappings: [
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } },
        { DeviceName: '/dev/sdg', Ebs: { VolumeSize: 10, DeleteOnTermination: false } },
      ],
      TagSpecifications: [{ ResourceType: 'volume', Tags: dataVolumeTags }],
    })
    const mine = async () =>
      (
        await fx.sdk.send(
          new DescribeVolumesCommand({ Filters: [{ Name: 'tag:SpotGuardRole', Values: ['data-volume'] }] }),
        )
      ).Volumes!
    const launched = await mine()
    expect(
      launched.map((v) => [
        v.AvailabilityZone,
        v.Attachments?.[0]?.Device,
        v.Attachments?.[0]?.DeleteOnTermination,
      ]),
    ).toEqual([
      ['us-east-1b', '/dev/sdf', true],
      ['us-east-1b', '/dev/sdg', false],
    ])
    const [sdf, sdg] = launched.map((v) => v.VolumeId!)
    // The data volume that must survive is kept; the scratch one follows the instance.
    await fx.sdk.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        BlockDeviceMappings: [
          { DeviceName: '/dev/sdf', Ebs: { DeleteOnTermination: false } },
          { DeviceName: '/dev/sdg', Ebs: { DeleteOnTermination: true } },
        ],
      }),
    )

    await fx.sdk.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }))
    expect((await mine()).map((v) => v.State)).toEqual(['in-use', 'in-use'])
    fx.clock.advance(10_000)
    expect((await mine()).map((v) => [v.VolumeId, v.State, v.Attachments])).toEqual([[sdf, 'available', []]])
    expect(fx.ec2.state.volumes.has(sdg!)).toBe(false)
  })

  it('images the data volumes with the root unless mapped to NoDevice, and every launch of the image recreates them', async () => {
    const live = fx.ec2.seed.addVolume({
      instanceId: fx.w.instanceId,
      device: '/dev/sdf',
      content: ['order 1'],
    })
    const image = (name: string, noData: boolean) =>
      fx.sdk.send(
        new CreateImageCommand({
          InstanceId: fx.w.instanceId,
          Name: name,
          NoReboot: true,
          BlockDeviceMappings: noData ? [{ DeviceName: '/dev/sdf', NoDevice: '' }] : undefined,
        }),
      )
    const withData = (await image('with-data', false)).ImageId!
    const rootOnly = (await image('root-only', true)).ImageId!
    fx.ec2.settle()
    const images = await fx.sdk.send(new DescribeImagesCommand({ ImageIds: [withData, rootOnly] }))
    expect(images.Images?.map((i) => i.BlockDeviceMappings?.map((m) => m.DeviceName))).toEqual([
      ['/dev/xvda', '/dev/sdf'],
      ['/dev/xvda'],
    ])

    const clean = await launchRunning(fx, 'us-east-1a', { ImageId: rootOnly })
    const stale = await launchRunning(fx, 'us-east-1a', { ImageId: withData })
    const volumesOf = async (instanceId: string) =>
      (
        await fx.sdk.send(
          new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }),
        )
      ).Volumes!
    expect(await volumesOf(clean)).toEqual([])
    const [copy] = await volumesOf(stale)
    expect(copy!.Attachments?.[0]?.Device).toBe('/dev/sdf')
    expect(fx.ec2.volumeContent(copy!.VolumeId!).map((r) => r.data)).toEqual(['order 1'])

    // The live volume can move to the instance launched from the root-only image, not to the other one.
    await fx.sdk.send(new DetachVolumeCommand({ VolumeId: live }))
    fx.ec2.settle()
    await expect(
      fx.sdk.send(new AttachVolumeCommand({ VolumeId: live, InstanceId: stale, Device: '/dev/sdf' })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' })
    await fx.sdk.send(new AttachVolumeCommand({ VolumeId: live, InstanceId: clean, Device: '/dev/sdf' }))
  })

  it('answers a dry run of each stateful call as EC2 does, changing nothing, and refuses it when denied', async () => {
    const live = fx.ec2.seed.addVolume({ instanceId: fx.w.instanceId, device: '/dev/sdf' })
    const spare = fx.ec2.seed.addVolume({ az: 'us-east-1a' })
    const eni = fx.ec2.seed.addNetworkInterface({ subnetId: fx.w.subnets['us-east-1a']! })
    const world = () =>
      JSON.stringify([
        ...fx.ec2.state.volumes.values(),
        ...fx.ec2.state.snapshots.values(),
        ...fx.ec2.state.networkInterfaces.values(),
      ])
    const before = world()
    const calls = [
      () => fx.sdk.send(new CreateVolumeCommand({ DryRun: true, AvailabilityZone: 'us-east-1a', Size: 20 })),
      () =>
        fx.sdk.send(
          new AttachVolumeCommand({
            DryRun: true,
            VolumeId: spare,
            InstanceId: fx.w.instanceId,
            Device: '/dev/sdg',
          }),
        ),
      () => fx.sdk.send(new DetachVolumeCommand({ DryRun: true, VolumeId: live })),
      () => fx.sdk.send(new CreateSnapshotCommand({ DryRun: true, VolumeId: live })),
      () =>
        fx.sdk.send(
          new CreateNetworkInterfaceCommand({ DryRun: true, SubnetId: fx.w.subnets['us-east-1a'] }),
        ),
      () =>
        fx.sdk.send(
          new AttachNetworkInterfaceCommand({
            DryRun: true,
            NetworkInterfaceId: eni.networkInterfaceId,
            InstanceId: fx.w.instanceId,
            DeviceIndex: 1,
          }),
        ),
    ]
    for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'DryRunOperation' })
    await expect(
      fx.sdk.send(
        new AttachVolumeCommand({
          DryRun: true,
          VolumeId: live,
          InstanceId: fx.w.instanceId,
          Device: '/dev/sdg',
        }),
      ),
    ).rejects.toMatchObject({ name: 'VolumeInUse' })
    expect(world()).toBe(before)

    fx.ec2.deny('AttachVolume')
    await expect(
      fx.sdk.send(
        new AttachVolumeCommand({
          DryRun: true,
          VolumeId: spare,
          InstanceId: fx.w.instanceId,
          Device: '/dev/sdg',
        }),
      ),
    ).rejects.toMatchObject({ name: 'UnauthorizedOperation' })
  })
})
