import { RunInstancesCommand } from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { clientToken } from '../../agent/src/actions/context'
import { GrowingBill, launchKeyOf } from '../../scripts/soak/ec2-view'
import { useFakeEc2 } from '../fakes/ec2-fixture'
import { chargeOf } from '../fakes/ec2/billing'

const fx = useFakeEc2()
const HOUR = 3_600_000
const onDemandPrice = () => 0.0416

async function launch(imageId: string, token: string | undefined, tags: Record<string, string>) {
  const out = await fx.sdk.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: fx.w.subnets['us-east-1a'],
      ClientToken: token,
      InstanceMarketOptions: { MarketType: 'spot' },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  )
  return fx.ec2.instance(out.Instances![0]!.InstanceId!)!
}

describe("the soak's view of EC2", () => {
  it('knows which command launched an instance from its ClientToken, not from tags it inherited', async () => {
    const switchImage = fx.ec2.seed.addImage({ ownerId: 'self', tags: { SpotGuardCommandId: 'cmd-1' } })
    const replica = await launch(fx.w.launchImageId, clientToken('replica', 'rep-1'), { ReplicaId: 'rep-1' })
    // Switched from the promoted replica: the new instance carries its ReplicaId tag too.
    const switched = await launch(switchImage, clientToken('switch', 'cmd-1'), { ReplicaId: 'rep-1' })
    // An installed agent's SDK makes up a token: its second launch of one replica is a duplicate.
    const installed = await launch(fx.w.launchImageId, undefined, { ReplicaId: 'rep-1' })
    const plain = await launch(fx.w.launchImageId, 'some-token', {})

    expect([replica, switched, installed, plain].map((i) => launchKeyOf(fx.ec2.state, i))).toEqual([
      'replica:rep-1',
      'switch:cmd-1',
      'replica:rep-1',
      'token:some-token',
    ])
    expect(launchKeyOf(fx.ec2.state, fx.ec2.instance(fx.w.instanceId)!)).toBeNull()
  })

  it('bills a growing window piece by piece exactly as in one go', () => {
    fx.ec2.setSpotPriceModel((_type, _az, at) => 0.01 + (Math.floor(at / 300_000) % 7) * 0.001)
    const instance = fx.ec2.instance(fx.w.instanceId)!
    const from = fx.clock.now() + 1_234
    const bills = new GrowingBill()
    for (const hours of [1, 2.5, 4]) {
      fx.clock.set(from + hours * HOUR)
      bills.costOf(fx.ec2.state, instance, { onDemandPrice, from, to: fx.clock.now() - 600_000 })
    }
    fx.ec2.terminate(instance.instanceId)
    fx.clock.advance(HOUR)
    const piecewise = bills.costOf(fx.ec2.state, instance, { onDemandPrice, from, to: fx.clock.now() })
    expect(piecewise).toBeCloseTo(chargeOf(fx.ec2.state, instance, { onDemandPrice, from }).cost, 12)
    expect(piecewise).toBeGreaterThan(0.04)
  })
})
