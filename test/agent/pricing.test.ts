import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEc2 } from '../../agent/src/ec2-transport'
import { memoryLog } from '../../agent/src/log'
import { createPricing, latestPerAz, pricingReport } from '../../agent/src/pricing'
import { startFakeEc2, startFakePricing, TEST_CREDENTIALS, type FakeEc2, type FakePricing } from '../fakes'
import { instantClock } from './support/clock'

let ec2Fake: FakeEc2
let pricingFake: FakePricing
const credentials = { get: async () => ({ ...TEST_CREDENTIALS, expiresAt: null }) }

beforeEach(async () => {
  ec2Fake = await startFakeEc2()
  pricingFake = await startFakePricing()
})
afterEach(async () => {
  await ec2Fake.close()
  await pricingFake.close()
})

function pricing() {
  const clock = instantClock(Date.now())
  const log = memoryLog()
  const ec2 = createEc2({
    region: 'us-east-1',
    endpoint: ec2Fake.url,
    credentials,
    clock,
    log,
    dryRun: false,
  })
  return { clock, p: createPricing({ ec2, credentials, clock, log, endpoint: pricingFake.url }) }
}

describe('pricing', () => {
  it('gets every AZ of the type from ONE DescribeSpotPriceHistory call', async () => {
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1a', 0.0125)
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1b', 0.0131)
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1c', 0.0119)
    const { pools } = await pricing().p.spotPrices('t3.medium', null)
    expect(pools).toEqual([
      { pool_id: 't3.medium.us-east-1a', instance_type: 't3.medium', az: 'us-east-1a', price: 0.0125 },
      { pool_id: 't3.medium.us-east-1b', instance_type: 't3.medium', az: 'us-east-1b', price: 0.0131 },
      { pool_id: 't3.medium.us-east-1c', instance_type: 't3.medium', az: 'us-east-1c', price: 0.0119 },
    ])
    expect(ec2Fake.count('DescribeSpotPriceHistory')).toBe(1)
  })

  it('prices several instance types in ONE DescribeSpotPriceHistory call, pools per type and AZ', async () => {
    const { clock, p } = pricing()
    const now = clock.now()
    ec2Fake.setSpotPrice('m5.large', 'us-east-1a', 0.04, now - 10 * 60_000)
    ec2Fake.setSpotPrice('m6a.large', 'us-east-1a', 0.03, now - 20 * 60_000)
    ec2Fake.setSpotPrice('m6a.large', 'us-east-1b', 0.02, now - 5 * 60_000)
    ec2Fake.setSpotPrice('c5.large', 'us-east-1a', 0.01, now - 5 * 60_000)
    const { pools, history } = await p.spotPrices(['m5.large', 'm6a.large'], null)
    expect(pools.map((x) => [x.pool_id, x.instance_type, x.price])).toEqual([
      ['m5.large.us-east-1a', 'm5.large', 0.04],
      ['m6a.large.us-east-1a', 'm6a.large', 0.03],
      ['m6a.large.us-east-1b', 'm6a.large', 0.02],
    ])
    expect(history.map((x) => x.pool_id)).toEqual([
      'm6a.large.us-east-1a',
      'm5.large.us-east-1a',
      'm6a.large.us-east-1b',
    ])
    expect(ec2Fake.count('DescribeSpotPriceHistory')).toBe(1)
    const [call] = ec2Fake.requests.filter((r) => r.action === 'DescribeSpotPriceHistory')
    expect(call!.params).toMatchObject({ 'InstanceType.1': 'm5.large', 'InstanceType.2': 'm6a.large' })
    // The 4.0.0 fields stay of the agent's own type; spot_pools lists every type.
    const self = {
      instanceId: 'i-1',
      instanceType: 'm5.large',
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot' as const,
    }
    const report = pricingReport(self, pools, 0.096, now)
    expect(report.pricing.cheapest_pool).toEqual({ pool_id: 'm5.large.us-east-1a', price: 0.04 })
    expect(report.pricing.spot_pools).toHaveLength(3)
  })

  it("lists EC2's change points at EC2's times: the last hour's first, then those since a time", async () => {
    const { clock, p } = pricing()
    const now = clock.now()
    // Before the hour: the price in force at its start, which EC2 also answers, is not a change point.
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1a', 0.011, now - 2 * 3_600_000)
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1a', 0.012, now - 40 * 60_000)
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1b', 0.02, now - 30 * 60_000)
    ec2Fake.setSpotPrice('t3.medium', 'us-east-1a', 0.013, now - 10 * 60_000)
    const first = await p.spotPrices('t3.medium', null)
    expect(first.history).toEqual([
      { pool_id: 't3.medium.us-east-1a', at: new Date(now - 40 * 60_000).toISOString(), price: 0.012 },
      { pool_id: 't3.medium.us-east-1b', at: new Date(now - 30 * 60_000).toISOString(), price: 0.02 },
      { pool_id: 't3.medium.us-east-1a', at: new Date(now - 10 * 60_000).toISOString(), price: 0.013 },
    ])
    expect(first.pools.map((x) => x.price)).toEqual([0.013, 0.02])
    const since = await p.spotPrices('t3.medium', now - 20 * 60_000)
    expect(since.history.map((x) => x.price)).toEqual([0.013])
  })

  it('reads the Linux on-demand price once per type and region (the decoys do not match)', async () => {
    pricingFake.setOnDemandPrice('us-east-1', 't3.medium', 0.0416)
    const { p } = pricing()
    expect(await p.onDemandPrice('t3.medium', 'us-east-1')).toBe(0.0416)
    expect(await p.onDemandPrice('t3.medium', 'us-east-1')).toBe(0.0416)
    expect(pricingFake.count()).toBe(1)
    await p.onDemandPrice('t3.large', 'us-east-1')
    expect(pricingFake.count()).toBe(2)
  })

  it('keeps the newest price of each AZ', () => {
    const pools = latestPerAz('t3.medium', [
      { az: 'us-east-1a', price: 0.02, at: 1 },
      { az: 'us-east-1a', price: 0.01, at: 2 },
    ])
    expect(pools).toEqual([
      { pool_id: 't3.medium.us-east-1a', instance_type: 't3.medium', az: 'us-east-1a', price: 0.01 },
    ])
  })

  it('builds the 4.0.0 pricing-report body', () => {
    const pools = latestPerAz('t3.medium', [
      { az: 'us-east-1a', price: 0.0125, at: 1 },
      { az: 'us-east-1c', price: 0.0119, at: 1 },
    ])
    const report = pricingReport(
      { instanceId: 'i-1', instanceType: 't3.medium', region: 'us-east-1', az: 'us-east-1a', mode: 'spot' },
      pools,
      0.0416,
      Date.parse('2026-01-01T00:00:00Z'),
    )
    expect(report).toEqual({
      instance: {
        instance_id: 'i-1',
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        pool_id: 't3.medium.us-east-1a',
      },
      pricing: {
        on_demand_price: 0.0416,
        current_spot_price: 0.0125,
        cheapest_pool: { pool_id: 't3.medium.us-east-1c', price: 0.0119 },
        spot_pools: pools,
        collected_at: '2026-01-01T00:00:00.000Z',
      },
    })
  })
})
