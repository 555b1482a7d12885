import {
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'

const fx = useFakeEc2()

describe('fake EC2 network and prices through @aws-sdk/client-ec2', () => {
  it('finds the subnet of the VPC in a zone', async () => {
    const out = await fx.sdk.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [fx.w.vpcId] },
          { Name: 'availability-zone', Values: ['us-east-1c'] },
        ],
      }),
    )
    expect(out.Subnets?.map((s) => [s.SubnetId, s.AvailabilityZone, s.VpcId])).toEqual([
      [fx.w.subnets['us-east-1c'], 'us-east-1c', fx.w.vpcId],
    ])
  })

  it('lists the zones of the region', async () => {
    const out = await fx.sdk.send(new DescribeAvailabilityZonesCommand({}))
    expect(out.AvailabilityZones?.map((z) => [z.ZoneName, z.State, z.RegionName])).toEqual([
      ['us-east-1a', 'available', 'us-east-1'],
      ['us-east-1b', 'available', 'us-east-1'],
      ['us-east-1c', 'available', 'us-east-1'],
    ])
  })

  it('moves the Elastic IP to a running instance only with AllowReassociation', async () => {
    const found = await fx.sdk.send(
      new DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [fx.w.instanceId] }] }),
    )
    expect(found.Addresses?.[0]).toMatchObject({
      AllocationId: fx.w.allocationId,
      PublicIp: fx.w.publicIp,
      InstanceId: fx.w.instanceId,
    })
    const run = await fx.sdk.send(
      new RunInstancesCommand({
        ImageId: fx.w.launchImageId,
        InstanceType: 't3.medium',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: fx.w.subnets['us-east-1b'],
      }),
    )
    const id = run.Instances![0]!.InstanceId!
    await expect(
      fx.sdk.send(
        new AssociateAddressCommand({
          AllocationId: fx.w.allocationId,
          InstanceId: id,
          AllowReassociation: true,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID',
      message: `The pending instance '${id}' is not in a valid state for this operation.`,
    })
    fx.ec2.settle()
    await expect(
      fx.sdk.send(new AssociateAddressCommand({ AllocationId: fx.w.allocationId, InstanceId: id })),
    ).rejects.toMatchObject({
      name: 'Resource.AlreadyAssociated',
    })
    const moved = await fx.sdk.send(
      new AssociateAddressCommand({
        AllocationId: fx.w.allocationId,
        InstanceId: id,
        AllowReassociation: true,
      }),
    )
    expect(moved.AssociationId).toMatch(/^eipassoc-/)
    const now = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [id] }))
    expect(now.Reservations?.[0]?.Instances?.[0]?.PublicIpAddress).toBe(fx.w.publicIp)
    const old = await fx.sdk.send(
      new DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [fx.w.instanceId] }] }),
    )
    expect(old.Addresses).toEqual([])
  })

  it('answers one spot price history call for all zones of a type, with the price in effect at StartTime', async () => {
    const t0 = fx.clock.now()
    fx.ec2.setSpotPrice('m5.large', 'us-east-1a', 0.035, t0 - 3_600_000)
    fx.ec2.setSpotPrice('m5.large', 'us-east-1b', 0.031, t0 - 7_200_000)
    fx.ec2.setSpotPrice('m5.large', 'us-east-1a', 0.037, t0 - 60_000)
    fx.ec2.setSpotPrice('c5.large', 'us-east-1a', 0.05, t0 - 60_000)
    const out = await fx.sdk.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['m5.large'],
        ProductDescriptions: ['Linux/UNIX'],
        StartTime: new Date(t0 - 600_000),
      }),
    )
    expect(
      out.SpotPriceHistory?.map((p) => [p.AvailabilityZone, p.SpotPrice, p.Timestamp?.getTime()]),
    ).toEqual([
      ['us-east-1a', '0.037000', t0 - 60_000],
      ['us-east-1a', '0.035000', t0 - 3_600_000],
      ['us-east-1b', '0.031000', t0 - 7_200_000],
    ])
    expect(out.SpotPriceHistory?.[0]).toMatchObject({
      InstanceType: 'm5.large',
      ProductDescription: 'Linux/UNIX',
    })
    const oneZone = await fx.sdk.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['m5.large'],
        AvailabilityZone: 'us-east-1b',
        StartTime: new Date(t0),
      }),
    )
    expect(oneZone.SpotPriceHistory?.map((p) => [p.AvailabilityZone, p.SpotPrice])).toEqual([
      ['us-east-1b', '0.031000'],
    ])
  })

  it('stamps a modelled price change at the time it happened, however late it is asked for', async () => {
    const STEP = 5 * 60_000
    fx.ec2.setSpotPriceModel((type, az, at) =>
      type === 'm5.xlarge' && az === 'us-east-1a'
        ? 0.05 + (Math.floor((at - 1_234) / STEP) % 3) * 0.01
        : undefined,
    )
    const start = fx.clock.now()
    await fx.sdk.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['m5.xlarge'] }))
    const expected = [1, 2, 3].map((k) => (Math.floor((start - 1_234) / STEP) + k) * STEP + 1_234)
    // Unasked until a minute after the third change: each is stamped at its own time.
    fx.clock.advance(expected[2]! + 60_000 - start)
    const out = await fx.sdk.send(
      new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['m5.xlarge'], StartTime: new Date(start) }),
    )
    const changes = (out.SpotPriceHistory ?? []).filter((p) => p.Timestamp!.getTime() > start)
    expect(changes.map((p) => p.Timestamp!.getTime()).sort((a, b) => a - b)).toEqual(expected)
  })

  it('pages spot prices and samples a moving price model', async () => {
    fx.ec2.setSpotPriceModel((type, az, at) =>
      type === 't3.large'
        ? 0.02 + (az.endsWith('a') ? 0 : 0.001) + Math.floor(at / 60_000) * 1e-9
        : undefined,
    )
    const start = new Date(fx.clock.now())
    await fx.sdk.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['t3.large'], StartTime: start }))
    fx.clock.advance(60_000)
    const first = await fx.sdk.send(
      new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['t3.large'], StartTime: start, MaxResults: 4 }),
    )
    expect(first.SpotPriceHistory).toHaveLength(4)
    expect(first.NextToken).toBeTruthy()
    const rest = await fx.sdk.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['t3.large'],
        StartTime: start,
        MaxResults: 4,
        NextToken: first.NextToken,
      }),
    )
    expect(rest.SpotPriceHistory).toHaveLength(2)
    expect(rest.NextToken ?? '').toBe('')
    const zones = [...(first.SpotPriceHistory ?? []), ...(rest.SpotPriceHistory ?? [])].map(
      (p) => p.AvailabilityZone,
    )
    expect(new Set(zones)).toEqual(new Set(['us-east-1a', 'us-east-1b', 'us-east-1c']))
  })

  it('refuses a spot launch whose MaxPrice is below the market', async () => {
    fx.ec2.setSpotPrice('m5.large', 'us-east-1a', 0.04)
    await expect(
      fx.sdk.send(
        new RunInstancesCommand({
          ImageId: fx.w.launchImageId,
          InstanceType: 'm5.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: fx.w.subnets['us-east-1a'],
          InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '0.01' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'SpotMaxPriceTooLow' })
  })

  it('prices a spot launch from the moving model too', async () => {
    fx.ec2.setSpotPriceModel((type) => (type === 'c5.large' ? 0.03 : undefined))
    const launch = (maxPrice: string) =>
      fx.sdk.send(
        new RunInstancesCommand({
          ImageId: fx.w.launchImageId,
          InstanceType: 'c5.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: fx.w.subnets['us-east-1b'],
          InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: maxPrice } },
        }),
      )
    await expect(launch('0.02')).rejects.toMatchObject({ name: 'SpotMaxPriceTooLow' })
    const ok = await launch('0.05')
    expect(ok.Instances?.[0]?.InstanceLifecycle).toBe('spot')
  })
})
