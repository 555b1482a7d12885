import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { launchRunning } from './ec2-launch'

const fx = useFakeEc2()

const workloadInterface = [
  { Key: 'SpotGuardManaged', Value: 'true' },
  { Key: 'SpotGuardRole', Value: 'workload-interface' },
]

async function createInterface(az = 'us-east-1a', extra: { PrivateIpAddress?: string } = {}) {
  const out = await fx.sdk.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: fx.w.subnets[az],
      Groups: [fx.w.securityGroupId],
      Description: 'web-1 address',
      TagSpecifications: [{ ResourceType: 'network-interface', Tags: workloadInterface }],
      ...extra,
    }),
  )
  return out.NetworkInterface!
}

async function interfacesOf(instanceId: string) {
  const out = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))
  const instance = out.Reservations![0]!.Instances![0]!
  return (instance.NetworkInterfaces ?? []).map((n) => [
    n.NetworkInterfaceId,
    n.Attachment?.DeviceIndex,
    n.PrivateIpAddress,
  ])
}

describe('fake EC2 network interfaces through @aws-sdk/client-ec2', () => {
  it('moves a tagged interface, with its private IP, from one instance to another of the same AZ', async () => {
    const eni = await createInterface()
    expect(eni).toMatchObject({
      Status: 'available',
      SubnetId: fx.w.subnets['us-east-1a'],
      AvailabilityZone: 'us-east-1a',
      Groups: [{ GroupId: fx.w.securityGroupId, GroupName: 'web' }],
      SourceDestCheck: true,
      TagSet: workloadInterface,
    })
    expect(eni.PrivateIpAddress).toMatch(/^10\.0\.1\.\d+$/)
    const { NetworkInterfaceId, PrivateIpAddress } = eni
    const primary = `eni-${fx.w.instanceId.slice(2)}`

    const first = await fx.sdk.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId, InstanceId: fx.w.instanceId, DeviceIndex: 1 }),
    )
    expect(first.AttachmentId).toMatch(/^eni-attach-/)
    expect(await interfacesOf(fx.w.instanceId)).toEqual([
      [primary, 0, fx.ec2.instance(fx.w.instanceId)!.privateIp],
      [NetworkInterfaceId, 1, PrivateIpAddress],
    ])

    const next = await launchRunning(fx, 'us-east-1a')
    await fx.sdk.send(new DetachNetworkInterfaceCommand({ AttachmentId: first.AttachmentId }))
    await fx.sdk.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId, InstanceId: next, DeviceIndex: 1 }),
    )
    expect(await interfacesOf(fx.w.instanceId)).toEqual([
      [primary, 0, fx.ec2.instance(fx.w.instanceId)!.privateIp],
    ])
    expect((await interfacesOf(next))[1]).toEqual([NetworkInterfaceId, 1, PrivateIpAddress])
    const found = await fx.sdk.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: 'tag:SpotGuardRole', Values: ['workload-interface'] },
          { Name: 'attachment.instance-id', Values: [next] },
        ],
      }),
    )
    expect(
      found.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Status, n.Attachment?.InstanceId]),
    ).toEqual([[NetworkInterfaceId, 'in-use', next]])
  })

  it('refuses what EC2 refuses: another AZ, device index 0 or taken, an interface in use, the primary', async () => {
    const eni = (await createInterface()).NetworkInterfaceId!
    const spare = (await createInterface()).NetworkInterfaceId!
    const elsewhere = await launchRunning(fx, 'us-east-1b')
    const attach = (id: string, instanceId: string, index: number) =>
      fx.sdk.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: id,
          InstanceId: instanceId,
          DeviceIndex: index,
        }),
      )

    await expect(attach(eni, elsewhere, 1)).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
      message:
        'You may not attach a network interface to an instance if they are not in the same availability zone',
    })
    await expect(attach(eni, fx.w.instanceId, 0)).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: `Instance '${fx.w.instanceId}' already has an interface attached at device index '0'.`,
    })
    const { AttachmentId } = await attach(eni, fx.w.instanceId, 1)
    await expect(attach(spare, fx.w.instanceId, 1)).rejects.toMatchObject({ name: 'InvalidParameterValue' })
    await expect(attach(eni, fx.w.instanceId, 2)).rejects.toMatchObject({
      name: 'InvalidNetworkInterface.InUse',
    })
    await expect(
      fx.sdk.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni })),
    ).rejects.toMatchObject({
      name: 'InvalidNetworkInterface.InUse',
    })
    await expect(
      fx.sdk.send(
        new DetachNetworkInterfaceCommand({ AttachmentId: `eni-attach-${fx.w.instanceId.slice(2)}` }),
      ),
    ).rejects.toMatchObject({ name: 'OperationNotPermitted' })
    const ip = fx.ec2.state.networkInterfaces.get(eni)!.privateIp
    await expect(createInterface('us-east-1a', { PrivateIpAddress: ip })).rejects.toMatchObject({
      name: 'InvalidIPAddress.InUse',
    })

    await fx.sdk.send(new DetachNetworkInterfaceCommand({ AttachmentId }))
    await fx.sdk.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }))
    await expect(
      fx.sdk.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] })),
    ).rejects.toMatchObject({ name: 'InvalidNetworkInterfaceID.NotFound' })
  })

  it('carries modified groups and source/dest check, and survives its instance unless marked DeleteOnTermination', async () => {
    const { vpcId } = fx.w
    const db = fx.ec2.seed.addSecurityGroup(vpcId, 'db')
    const kept = (await createInterface()).NetworkInterfaceId!
    const scratch = (await createInterface()).NetworkInterfaceId!
    await fx.sdk.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: kept,
        SourceDestCheck: { Value: false },
      }),
    )
    await fx.sdk.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: kept, Groups: [db] }))
    await fx.sdk.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: kept,
        InstanceId: fx.w.instanceId,
        DeviceIndex: 1,
      }),
    )
    const { AttachmentId } = await fx.sdk.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: scratch,
        InstanceId: fx.w.instanceId,
        DeviceIndex: 2,
      }),
    )
    await fx.sdk.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: scratch,
        Attachment: { AttachmentId, DeleteOnTermination: true },
      }),
    )

    await fx.sdk.send(new TerminateInstancesCommand({ InstanceIds: [fx.w.instanceId] }))
    fx.ec2.settle()
    const left = await fx.sdk.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'tag:SpotGuardRole', Values: ['workload-interface'] }],
      }),
    )
    expect(
      left.NetworkInterfaces?.map((n) => [
        n.NetworkInterfaceId,
        n.Status,
        n.SourceDestCheck,
        n.Groups?.[0]?.GroupId,
      ]),
    ).toEqual([[kept, 'available', false, db]])
    expect(await interfacesOf(fx.w.instanceId)).toEqual([])
  })
})
