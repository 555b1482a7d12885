import {
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { WORKLOAD_USER_DATA } from './ec2/workload'

const fx = useFakeEc2()

function launch(overrides: Record<string, unknown> = {}) {
  return fx.sdk.send(
    new RunInstancesCommand({
      ImageId: fx.w.launchImageId,
      InstanceType: 'm5.large',
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: 'us-east-1b' },
      SubnetId: fx.w.subnets['us-east-1b'],
      SecurityGroupIds: [fx.w.securityGroupId],
      IamInstanceProfile: { Arn: fx.w.profile.arn },
      KeyName: fx.w.keyName,
      UserData: Buffer.from(WORKLOAD_USER_DATA).toString('base64'),
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: 'web-1' },
            { Key: 'ManagedBy', Value: 'SpotOptimizer' },
          ],
        },
      ],
      InstanceMarketOptions: {
        MarketType: 'spot',
        SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
      },
      ClientToken: 'switch-cmd-1',
      ...overrides,
    }),
  )
}

describe('fake EC2 instances through @aws-sdk/client-ec2', () => {
  it('describes the seeded instance with every fact the agent copies', async () => {
    const out = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [fx.w.instanceId] }))
    const i = out.Reservations?.[0]?.Instances?.[0]
    expect(i?.InstanceId).toBe(fx.w.instanceId)
    expect(i?.State).toEqual({ Code: 16, Name: 'running' })
    expect(i?.InstanceLifecycle).toBe('spot')
    expect(i?.Placement?.AvailabilityZone).toBe('us-east-1a')
    expect(i?.SubnetId).toBe(fx.w.subnets['us-east-1a'])
    expect(i?.VpcId).toBe(fx.w.vpcId)
    expect(i?.SecurityGroups?.map((g) => g.GroupId)).toEqual([fx.w.securityGroupId])
    expect(i?.IamInstanceProfile?.Arn).toBe(fx.w.profile.arn)
    expect(i?.KeyName).toBe('ops-key')
    expect(i?.PublicIpAddress).toBe(fx.w.publicIp)
    expect(i?.Tags).toContainEqual({ Key: 'LogicalAgentId', Value: 'agent-web-1' })
    expect(i?.LaunchTime).toEqual(new Date(fx.clock.now()))
  })

  it('filters by tag and state, and pages with NextToken', async () => {
    for (let n = 0; n < 6; n++)
      await launch({
        ClientToken: `t-${n}`,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Batch', Value: 'b' }] }],
      })
    const tagged = await fx.sdk.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Batch', Values: ['b'] },
          { Name: 'instance-state-name', Values: ['pending'] },
        ],
      }),
    )
    expect(tagged.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(6)
    const first = await fx.sdk.send(new DescribeInstancesCommand({ MaxResults: 5 }))
    expect(first.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(5)
    expect(first.NextToken).toBeTruthy()
    const second = await fx.sdk.send(
      new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken }),
    )
    expect(second.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(2)
    expect(second.NextToken).toBeUndefined()
  })

  it('rejects an unknown instance id and an unknown filter with typed errors', async () => {
    await expect(
      fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      $metadata: { httpStatusCode: 400 },
    })
    await expect(
      fx.sdk.send(new DescribeInstancesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    })
  })

  it('reads user data base64 back through DescribeInstanceAttribute', async () => {
    const out = await fx.sdk.send(
      new DescribeInstanceAttributeCommand({ InstanceId: fx.w.instanceId, Attribute: 'userData' }),
    )
    expect(Buffer.from(out.UserData?.Value ?? '', 'base64').toString()).toBe(WORKLOAD_USER_DATA)
  })

  it('launches a spot instance in the target pool with everything copied', async () => {
    const out = await launch()
    const i = out.Instances?.[0]
    expect(out.ReservationId).toMatch(/^r-/)
    expect(i?.State?.Name).toBe('pending')
    expect(i?.InstanceLifecycle).toBe('spot')
    expect(i?.InstanceType).toBe('m5.large')
    expect(i?.Placement?.AvailabilityZone).toBe('us-east-1b')
    expect(i?.Tags).toContainEqual({ Key: 'ManagedBy', Value: 'SpotOptimizer' })
    expect(fx.ec2.instance(i!.InstanceId!)?.userData).toBe(Buffer.from(WORKLOAD_USER_DATA).toString('base64'))
  })

  it('returns the same instance for a repeated ClientToken and refuses changed parameters', async () => {
    const a = await launch()
    const b = await launch()
    expect(b.Instances?.[0]?.InstanceId).toBe(a.Instances?.[0]?.InstanceId)
    expect(fx.ec2.state.instances.size).toBe(2)
    await expect(launch({ InstanceType: 'c5.large' })).rejects.toMatchObject({
      name: 'IdempotentParameterMismatch',
    })
  })

  it('launches MaxCount instances in one reservation, all returned again for the same token', async () => {
    const first = await launch({ MinCount: 1, MaxCount: 2, ClientToken: 'pair' })
    const ids = first.Instances?.map((i) => i.InstanceId)
    expect(ids).toHaveLength(2)
    const again = await launch({ MinCount: 1, MaxCount: 2, ClientToken: 'pair' })
    expect([again.ReservationId, again.Instances?.map((i) => i.InstanceId)]).toEqual([
      first.ReservationId,
      ids,
    ])
    const byId = await fx.sdk.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [ids![1]!] }] }),
    )
    expect(byId.Reservations?.[0]?.Instances?.map((i) => i.InstanceId)).toEqual([ids![1]])
  })

  it('validates the launch like EC2: subnet in another AZ, unknown group, profile, key, image', async () => {
    await expect(launch({ ClientToken: 'a', SubnetId: fx.w.subnets['us-east-1c'] })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    })
    await expect(launch({ ClientToken: 'b', SecurityGroupIds: ['sg-0nope'] })).rejects.toMatchObject({
      name: 'InvalidGroup.NotFound',
    })
    await expect(launch({ ClientToken: 'c', IamInstanceProfile: { Name: 'nope' } })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    })
    await expect(launch({ ClientToken: 'd', KeyName: 'nope' })).rejects.toMatchObject({
      name: 'InvalidKeyPair.NotFound',
    })
    await expect(launch({ ClientToken: 'e', ImageId: 'ami-0nope' })).rejects.toMatchObject({
      name: 'InvalidAMIID.NotFound',
    })
    expect(fx.ec2.state.instances.size).toBe(1)
  })

  it('fails on demand with capacity, throttling and authorization errors', async () => {
    fx.ec2.failNext('RunInstances', 'InsufficientInstanceCapacity')
    await expect(launch()).rejects.toMatchObject({
      name: 'InsufficientInstanceCapacity',
      $metadata: { httpStatusCode: 500 },
    })
    fx.ec2.failNext('*', 'RequestLimitExceeded', { times: 2 })
    await expect(fx.sdk.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
      $metadata: { httpStatusCode: 503 },
    })
    await expect(fx.sdk.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
    })
    await expect(fx.sdk.send(new DescribeInstancesCommand({}))).resolves.toBeDefined()
    fx.ec2.deny('TerminateInstances')
    await expect(
      fx.sdk.send(new TerminateInstancesCommand({ InstanceIds: [fx.w.instanceId] })),
    ).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 },
    })
    const stop = fx.ec2.failWhen('RunInstances', (p) =>
      p.get('Placement.AvailabilityZone') === 'us-east-1b' ? 'InsufficientInstanceCapacity' : undefined,
    )
    await expect(launch()).rejects.toMatchObject({ name: 'InsufficientInstanceCapacity' })
    stop()
    await expect(launch()).resolves.toBeDefined()
    expect(fx.ec2.counts()).toMatchObject({ RunInstances: 3, DescribeInstances: 3, TerminateInstances: 1 })
    expect(fx.ec2.requests.filter((r) => r.code === 'RequestLimitExceeded')).toHaveLength(2)
  })

  it('moves a launch to running and status ok by the clock, and a termination to terminated', async () => {
    const id = (await launch()).Instances![0]!.InstanceId!
    const status = () =>
      fx.sdk.send(new DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: true }))
    expect((await status()).InstanceStatuses?.[0]?.InstanceState?.Name).toBe('pending')
    expect(
      (await fx.sdk.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }))).InstanceStatuses,
    ).toEqual([])
    fx.clock.advance(5_000)
    const running = (await status()).InstanceStatuses?.[0]
    expect(running?.InstanceState?.Name).toBe('running')
    expect(running?.InstanceStatus?.Status).toBe('initializing')
    fx.clock.advance(20_000)
    const ok = (await status()).InstanceStatuses?.[0]
    expect([ok?.InstanceStatus?.Status, ok?.SystemStatus?.Status]).toEqual(['ok', 'ok'])
    expect(ok?.InstanceStatus?.Details).toEqual([{ Name: 'reachability', Status: 'passed' }])

    const term = await fx.sdk.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
    expect(term.TerminatingInstances?.[0]).toMatchObject({
      InstanceId: id,
      CurrentState: { Name: 'shutting-down', Code: 32 },
      PreviousState: { Name: 'running', Code: 16 },
    })
    fx.clock.advance(10_000)
    const gone = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [id] }))
    expect(gone.Reservations?.[0]?.Instances?.[0]?.State).toEqual({ Code: 48, Name: 'terminated' })
  })
})
