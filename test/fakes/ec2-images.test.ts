import {
  CreateImageCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'

const fx = useFakeEc2()

const managed = [{ Key: 'ManagedBy', Value: 'SpotOptimizer' }]

function createImage(name: string) {
  return fx.sdk.send(
    new CreateImageCommand({
      InstanceId: fx.w.instanceId,
      Name: name,
      NoReboot: true,
      TagSpecifications: [
        { ResourceType: 'image', Tags: [...managed, { Key: 'SourceInstance', Value: fx.w.instanceId }] },
        { ResourceType: 'snapshot', Tags: managed },
      ],
    }),
  )
}

describe('fake EC2 images and snapshots through @aws-sdk/client-ec2', () => {
  it('creates a tagged image that becomes available when driven, with a tagged snapshot', async () => {
    const { ImageId } = await createImage(`SpotOptimizer-${fx.w.instanceId}-20260101-000000`)
    expect(ImageId).toMatch(/^ami-/)
    const describe = () => fx.sdk.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))
    const pending = (await describe()).Images?.[0]
    expect(pending?.State).toBe('pending')
    expect(pending?.Tags).toContainEqual({ Key: 'SourceInstance', Value: fx.w.instanceId })
    expect(fx.ec2.state.images.get(ImageId!)?.noReboot).toBe(true)
    fx.ec2.advance(ImageId)
    const image = (await describe()).Images?.[0]
    expect(image?.State).toBe('available')
    expect(image?.CreationDate).toBe(new Date(fx.clock.now()).toISOString())
    const snapshotId = image?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId
    const snaps = await fx.sdk.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId!] }))
    expect(snaps.Snapshots?.[0]).toMatchObject({
      State: 'completed',
      Tags: managed,
      OwnerId: fx.ec2.state.accountId,
    })
  })

  it('gets available by the clock too', async () => {
    const { ImageId } = await createImage('by-clock')
    fx.clock.advance(30_000)
    const out = await fx.sdk.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'tag:ManagedBy', Values: ['SpotOptimizer'] }],
      }),
    )
    expect(out.Images?.map((i) => [i.ImageId, i.State])).toEqual([[ImageId, 'available']])
  })

  it('lists only own images for Owners self, and rejects a duplicate name', async () => {
    await createImage('mine')
    const own = await fx.sdk.send(new DescribeImagesCommand({ Owners: ['self'] }))
    expect(own.Images?.map((i) => i.Name)).toEqual(['mine'])
    await expect(createImage('mine')).rejects.toMatchObject({ name: 'InvalidAMIName.Duplicate' })
  })

  it('refuses to delete a snapshot still used by an image, then deletes it after deregistering', async () => {
    const { ImageId } = await createImage('in-use')
    fx.ec2.settle()
    const snapshotId = fx.ec2.state.images.get(ImageId!)!.snapshotId!
    await expect(fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }))).rejects.toMatchObject({
      name: 'InvalidSnapshot.InUse',
    })
    await fx.sdk.send(new DeregisterImageCommand({ ImageId }))
    await expect(fx.sdk.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).rejects.toMatchObject({
      name: 'InvalidAMIID.NotFound',
    })
    await fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }))
    await expect(fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }))).rejects.toMatchObject({
      name: 'InvalidSnapshot.NotFound',
    })
  })

  it('pages snapshots of self filtered by tag', async () => {
    for (let n = 0; n < 7; n++) await createImage(`img-${n}`)
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const out = await fx.sdk.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          Filters: [{ Name: 'tag:ManagedBy', Values: ['SpotOptimizer'] }],
          MaxResults: 5,
          NextToken: token,
        }),
      )
      seen.push(...(out.Snapshots ?? []).map((s) => s.SnapshotId!))
      token = out.NextToken
      pages++
    } while (token)
    expect(pages).toBe(2)
    expect(new Set(seen).size).toBe(7)
  })

  it('tags existing resources and reports unknown ones', async () => {
    await fx.sdk.send(
      new CreateTagsCommand({ Resources: [fx.w.instanceId], Tags: [{ Key: 'ReplicaId', Value: 'rep-1' }] }),
    )
    expect(fx.ec2.instance(fx.w.instanceId)?.tags.ReplicaId).toBe('rep-1')
    await expect(
      fx.sdk.send(new CreateTagsCommand({ Resources: ['i-0000000000000dead'], Tags: managed })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    })
    await expect(
      fx.sdk.send(
        new CreateTagsCommand({ Resources: [fx.w.instanceId], Tags: [{ Key: 'aws:x', Value: 'y' }] }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    })
  })

  it('seeds old own images with their snapshots, and standalone snapshots, for cleanup scenarios', async () => {
    const old = fx.clock.now() - 40 * 86_400_000
    const imageId = fx.ec2.seed.addImage({
      ownerId: 'self',
      name: 'SpotOptimizer-old',
      createdAt: old,
      tags: { ManagedBy: 'SpotOptimizer' },
    })
    const loose = fx.ec2.seed.addSnapshot({ startTime: old, tags: { ManagedBy: 'SpotOptimizer' } })
    const images = await fx.sdk.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'tag:ManagedBy', Values: ['SpotOptimizer'] }],
      }),
    )
    expect(images.Images?.map((i) => [i.ImageId, i.CreationDate])).toEqual([
      [imageId, new Date(old).toISOString()],
    ])
    const backing = images.Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId
    const snaps = await fx.sdk.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:ManagedBy', Values: ['SpotOptimizer'] }],
      }),
    )
    expect(snaps.Snapshots?.map((s) => [s.SnapshotId, s.StartTime?.getTime()])).toEqual([
      [backing, old],
      [loose, old],
    ])
    await expect(fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: backing }))).rejects.toMatchObject({
      name: 'InvalidSnapshot.InUse',
    })
    await fx.sdk.send(new DeleteSnapshotCommand({ SnapshotId: loose }))
  })
})
