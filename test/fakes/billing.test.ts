import { TerminateInstancesCommand } from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { launchPending } from './ec2-launch'
import { MINIMUM_BILLED_MS, billOf, chargeOf, runningPeriods } from './ec2/billing'

const fx = useFakeEc2()
const HOUR = 3_600_000
const onDemandPrice = (type: string) => ({ 't3.medium': 0.0416, 'm5.large': 0.096 })[type]

async function launchSpot(az = 'us-east-1b') {
  const instanceId = await launchPending(fx, az, { InstanceMarketOptions: { MarketType: 'spot' } })
  return fx.ec2.instance(instanceId)!
}

describe("the fake EC2's bill", () => {
  it('charges an on-demand instance from running to its termination at the Price List price', async () => {
    const seeded = fx.ec2.instance(fx.w.instanceId)!
    fx.ec2.state.instances.get(fx.w.instanceId)!.lifecycle = 'on-demand'
    const started = fx.clock.now()
    fx.clock.advance(2 * HOUR)
    await fx.sdk.send(new TerminateInstancesCommand({ InstanceIds: [fx.w.instanceId] }))
    fx.clock.advance(HOUR)
    fx.ec2.tick()

    expect(seeded.state).toBe('terminated')
    expect(runningPeriods(seeded, fx.clock.now())).toEqual([[started, started + 2 * HOUR]])
    const charge = chargeOf(fx.ec2.state, seeded, { onDemandPrice })
    expect(charge.billedMs).toBe(2 * HOUR)
    expect(charge.cost).toBeCloseTo(2 * 0.0416, 10)
  })

  it('charges a spot instance each second at the pool price in effect, not while pending or shutting down', async () => {
    fx.ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.012)
    const instance = await launchSpot()
    fx.clock.advance(5_000) // pending: not billed
    fx.ec2.tick()
    const runningAt = fx.clock.now()
    fx.ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.02, runningAt + HOUR + 500)
    fx.clock.advance(2 * HOUR)
    fx.ec2.terminate(instance.instanceId)
    fx.clock.advance(10_000) // shutting-down: not billed
    fx.ec2.tick()

    const charge = chargeOf(fx.ec2.state, instance, { onDemandPrice })
    expect(charge.billedMs).toBe(2 * HOUR)
    // The second in which the price changed is charged at the price in effect when it began.
    expect(charge.cost).toBeCloseTo((0.012 * (HOUR + 1_000) + 0.02 * (HOUR - 1_000)) / HOUR, 10)
    expect(charge.unpricedMs).toBe(0)
  })

  it('follows the spot price model when one is set', async () => {
    fx.ec2.setSpotPriceModel((_type, _az, at) => (Math.floor(at / HOUR) % 2 === 0 ? 0.01 : 0.03))
    fx.clock.set(10 * HOUR) // an even hour: 0.01
    const instance = await launchSpot()
    fx.ec2.advance(instance.instanceId)
    fx.clock.advance(2 * HOUR)

    const charge = chargeOf(fx.ec2.state, instance, { onDemandPrice })
    expect(charge.billedMs).toBe(2 * HOUR)
    expect(charge.cost).toBeCloseTo(0.01 + 0.03, 10)
  })

  it('charges at least 60 seconds for a short run, and nothing for an instance that never ran', async () => {
    fx.ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.036)
    const short = await launchSpot()
    fx.ec2.advance(short.instanceId)
    fx.clock.advance(10_000)
    fx.ec2.terminate(short.instanceId)
    const never = await launchSpot()
    fx.ec2.terminate(never.instanceId)
    fx.clock.advance(HOUR)

    expect(chargeOf(fx.ec2.state, short, { onDemandPrice }).billedMs).toBe(MINIMUM_BILLED_MS)
    expect(chargeOf(fx.ec2.state, short, { onDemandPrice }).cost).toBeCloseTo((0.036 * 60) / 3600, 10)
    expect(chargeOf(fx.ec2.state, never, { onDemandPrice })).toMatchObject({ billedMs: 0, cost: 0 })
  })

  it('bills only the window asked for, up to now for a running instance, and counts unknown prices apart', async () => {
    const instance = await launchSpot('us-east-1c') // no price known in this pool
    fx.ec2.advance(instance.instanceId)
    const runningAt = fx.clock.now()
    fx.clock.advance(3 * HOUR)

    const all = billOf(fx.ec2.state, { onDemandPrice, include: (i) => i.az === 'us-east-1c' })
    expect(all).toEqual([
      expect.objectContaining({ instanceId: instance.instanceId, billedMs: 3 * HOUR, cost: 0 }),
    ])
    expect(all[0]!.unpricedMs).toBe(3 * HOUR)
    const window = chargeOf(fx.ec2.state, instance, {
      onDemandPrice,
      from: runningAt + HOUR,
      to: runningAt + 2 * HOUR,
    })
    expect(window.billedMs).toBe(HOUR)
  })
})
