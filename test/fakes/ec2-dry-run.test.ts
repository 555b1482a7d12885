import {
  AssociateAddressCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'

const fx = useFakeEc2()

/** Everything a call could change, to prove a dry run changed none of it. */
const world = () =>
  JSON.stringify([
    ...fx.ec2.state.instances.values(),
    ...fx.ec2.state.images.values(),
    ...fx.ec2.state.snapshots.values(),
    ...fx.ec2.state.addresses.values(),
    ...fx.ec2.state.clientTokens.entries(),
  ])

const managed = [{ Key: 'ManagedBy', Value: 'SpotOptimizer' }]

/** One dry run of every mutating action the agent makes, on resources that exist. */
function mutations() {
  const imageId = fx.ec2.seed.addImage({ ownerId: 'self', tags: { ManagedBy: 'SpotOptimizer' } })
  const snapshotId = fx.ec2.seed.addSnapshot({ tags: { ManagedBy: 'SpotOptimizer' } })
  return {
    RunInstances: new RunInstancesCommand({
      DryRun: true,
      ImageId: fx.w.launchImageId,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: fx.w.subnets['us-east-1b'],
      SecurityGroupIds: [fx.w.securityGroupId],
      IamInstanceProfile: { Arn: fx.w.profile.arn },
      TagSpecifications: [{ ResourceType: 'instance', Tags: managed }],
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time' } },
      ClientToken: 'dry-run-token',
    }),
    CreateImage: new CreateImageCommand({
      DryRun: true,
      InstanceId: fx.w.instanceId,
      Name: 'SpotOptimizer-dry-run',
      NoReboot: true,
    }),
    CreateTags: new CreateTagsCommand({ DryRun: true, Resources: [fx.w.instanceId], Tags: managed }),
    TerminateInstances: new TerminateInstancesCommand({ DryRun: true, InstanceIds: [fx.w.instanceId] }),
    AssociateAddress: new AssociateAddressCommand({
      DryRun: true,
      AllocationId: fx.w.allocationId,
      InstanceId: fx.w.instanceId,
      AllowReassociation: true,
    }),
    DeregisterImage: new DeregisterImageCommand({ DryRun: true, ImageId: imageId }),
    DeleteSnapshot: new DeleteSnapshotCommand({ DryRun: true, SnapshotId: snapshotId }),
  }
}

describe('DryRun through @aws-sdk/client-ec2', () => {
  it('answers DryRunOperation (412) for every mutating action it allows, and changes nothing', async () => {
    const calls = mutations()
    const launched: string[] = []
    fx.ec2.onLaunch((i) => launched.push(i.instanceId))
    const before = world()
    for (const [action, command] of Object.entries(calls)) {
      await expect(fx.sdk.send(command as never), action).rejects.toMatchObject({
        name: 'DryRunOperation',
        message: 'Request would have succeeded, but DryRun flag is set.',
        $metadata: { httpStatusCode: 412 },
      })
    }
    expect(world()).toBe(before)
    expect(launched).toEqual([])
    expect(fx.ec2.requests.map((r) => [r.action, r.status, r.code])).toEqual(
      Object.keys(calls).map((a) => [a, 412, 'DryRunOperation']),
    )
    // The same launch made for real afterwards is a new one: the dry run kept no ClientToken.
    const { DryRun: _, ...real } = calls.RunInstances.input
    const out = await fx.sdk.send(new RunInstancesCommand(real))
    expect(launched).toEqual([out.Instances![0]!.InstanceId])
  })

  it('answers UnauthorizedOperation (403) for a denied action, and a real call stays denied', async () => {
    const calls = mutations()
    fx.ec2.deny('TerminateInstances')
    await expect(fx.sdk.send(calls.TerminateInstances)).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 },
    })
    await expect(fx.sdk.send(calls.CreateTags)).rejects.toMatchObject({ name: 'DryRunOperation' })
    fx.ec2.deny('*')
    await expect(fx.sdk.send(new DescribeInstancesCommand({ DryRun: true }))).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
    })
    expect(fx.ec2.instance(fx.w.instanceId)?.state).toBe('running')
  })

  it('validates the request as the real call would: an unknown image or instance is named, not allowed', async () => {
    await expect(
      fx.sdk.send(
        new RunInstancesCommand({
          DryRun: true,
          ImageId: 'ami-0000000000000dead',
          InstanceType: 't3.medium',
          MinCount: 1,
          MaxCount: 1,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound', $metadata: { httpStatusCode: 400 } })
    await expect(
      fx.sdk.send(new TerminateInstancesCommand({ DryRun: true, InstanceIds: ['i-0000000000000dead'] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    })
    await expect(fx.sdk.send(new DescribeInstancesCommand({ DryRun: true }))).rejects.toMatchObject({
      name: 'DryRunOperation',
    })
  })

  it('leaves injected capacity errors for the real call (a dry run checks permission, not capacity)', async () => {
    const { RunInstances } = mutations()
    fx.ec2.failNext('RunInstances', 'InsufficientInstanceCapacity')
    await expect(fx.sdk.send(RunInstances)).rejects.toMatchObject({ name: 'DryRunOperation' })
    const { DryRun: _, ...real } = RunInstances.input
    await expect(fx.sdk.send(new RunInstancesCommand(real))).rejects.toMatchObject({
      name: 'InsufficientInstanceCapacity',
    })
  })
})
