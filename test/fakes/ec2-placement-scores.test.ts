import { GetSpotPlacementScoresCommand, RunInstancesCommand } from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'

const fx = useFakeEc2()
const TYPES = ['m5.large', 'm5a.large', 'm6i.large']

function scores(types = TYPES, target = 1, singleAz = true) {
  return fx.sdk.send(
    new GetSpotPlacementScoresCommand({
      InstanceTypes: types,
      TargetCapacity: target,
      SingleAvailabilityZone: singleAz,
      RegionNames: ['us-east-1'],
    }),
  )
}

const byZone = (out: Awaited<ReturnType<typeof scores>>) =>
  Object.fromEntries((out.SpotPlacementScores ?? []).map((s) => [s.AvailabilityZoneId, s.Score]))

describe('fake EC2 GetSpotPlacementScores through @aws-sdk/client-ec2', () => {
  it('scores each AZ of the region by its capacity: a pool at no capacity scores 1, plenty scores 10', async () => {
    expect(byZone(await scores())).toEqual({ 'use1-az1': 10, 'use1-az2': 10, 'use1-az3': 10 })
    for (const type of TYPES) {
      fx.ec2.setCapacity(type, 'us-east-1b', 0)
      fx.ec2.setCapacity(type, 'us-east-1c', 2)
    }
    const out = await scores()
    expect(out.SpotPlacementScores?.every((s) => s.Region === 'us-east-1')).toBe(true)
    const moved = byZone(out)
    expect(moved['use1-az1']).toBe(10)
    expect(moved['use1-az2']).toBe(1)
    expect(moved['use1-az3']).toBeGreaterThan(1)
    expect(moved['use1-az3']).toBeLessThan(5)
    // Capacity back: the score follows it.
    for (const type of TYPES) fx.ec2.setCapacity(type, 'us-east-1b', undefined)
    expect(byZone(await scores())['use1-az2']).toBe(10)
  })

  it('refuses spot launches where no capacity is left, on-demand and other pools launch', async () => {
    fx.ec2.setCapacity('m5.large', 'us-east-1a', 0)
    const launch = (az: string, spot: boolean) =>
      fx.sdk.send(
        new RunInstancesCommand({
          ImageId: fx.w.launchImageId,
          InstanceType: 'm5.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: fx.w.subnets[az],
          ...(spot && { InstanceMarketOptions: { MarketType: 'spot' } }),
        }),
      )
    await expect(launch('us-east-1a', true)).rejects.toMatchObject({
      name: 'InsufficientInstanceCapacity',
      $metadata: { httpStatusCode: 500 },
    })
    await expect(launch('us-east-1a', false)).resolves.toBeDefined()
    await expect(launch('us-east-1b', true)).resolves.toBeDefined()
  })

  it('scores one or two instance types low whatever the capacity, as AWS does', async () => {
    expect(Object.values(byZone(await scores(['m5.large'])))).toEqual([3, 3, 3])
    expect(Object.values(byZone(await scores(['m5.large', 'm5a.large'])))).toEqual([3, 3, 3])
  })

  it('answers one score for the region without SingleAvailabilityZone', async () => {
    const out = await scores(TYPES, 1, false)
    expect(out.SpotPlacementScores).toEqual([{ Region: 'us-east-1', Score: 10 }])
  })

  it('allows 10 distinct configurations per account in 24 h; one already used may be asked again', async () => {
    for (let target = 1; target <= 10; target++) await scores(TYPES, target)
    await expect(scores(TYPES, 11)).rejects.toMatchObject({
      name: 'MaxConfigLimitExceeded',
      $metadata: { httpStatusCode: 400 },
    })
    // The same types in another order are the same configuration.
    await expect(scores([...TYPES].reverse(), 3)).resolves.toBeDefined()
    fx.clock.advance(24 * 3_600_000)
    await expect(scores(TYPES, 11)).resolves.toBeDefined()
  })

  it('answers UnauthorizedOperation when the instance profile lacks ec2:GetSpotPlacementScores', async () => {
    fx.ec2.deny('GetSpotPlacementScores')
    await expect(scores()).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 },
    })
    expect(fx.ec2.requests.at(-1)).toMatchObject({
      action: 'GetSpotPlacementScores',
      code: 'UnauthorizedOperation',
    })
  })

  it('refuses a request without TargetCapacity or instance types', async () => {
    await expect(
      fx.sdk.send(new GetSpotPlacementScoresCommand({ TargetCapacity: 1, SingleAvailabilityZone: true })),
    ).rejects.toMatchObject({ name: 'MissingParameter' })
    await expect(scores(TYPES, 0)).rejects.toMatchObject({ name: 'InvalidParameterValue' })
  })
})
