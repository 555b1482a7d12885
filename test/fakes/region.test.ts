import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { DescribeSpotPriceHistoryCommand, RunInstancesCommand } from '@aws-sdk/client-ec2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock, type ManualClock } from './clock'
import { startRegion, type FakeRegion } from './region'
import { sdkFor } from './sdk'

let clock: ManualClock
let sim: FakeRegion
beforeEach(async () => {
  clock = manualClock()
  sim = await startRegion({ instances: 2, clock })
})
afterEach(() => sim.close())

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.control}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

async function imdsGet(url: string, path: string) {
  const token = await (
    await fetch(`${url}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    })
  ).text()
  return fetch(`${url}/latest/${path}`, { headers: { 'x-aws-ec2-metadata-token': token } })
}

describe('simulated region', () => {
  it('lists the seeded instances across zones, each with its own IMDS', async () => {
    const { body } = await call('GET', '/instances')
    expect(body.map((i: any) => [i.az, i.state, i.tags.LogicalAgentId])).toEqual([
      ['us-east-1a', 'running', 'agent-web-1'],
      ['us-east-1b', 'running', 'agent-web-2'],
    ])
    const second = await imdsGet(body[1].imds, 'meta-data/instance-id')
    expect(await second.text()).toBe(body[1].instanceId)
  })

  it('injects an interruption notice that EC2 carries out at its time', async () => {
    const [id] = sim.seededInstanceIds
    const out = await call('POST', `/instances/${id}/interrupt`, { inSeconds: 120 })
    expect(out.body.time).toBe('2026-01-01T00:02:00.000Z')
    const notice = await imdsGet((await sim.imdsOf(id!)).url, 'meta-data/spot/instance-action')
    expect(await notice.json()).toEqual({ action: 'terminate', time: '2026-01-01T00:02:00Z' })
    clock.advance(120_000)
    expect((await call('GET', `/instances/${id}`)).body.state).toBe('shutting-down')
  })

  it('starts an IMDS for an instance the agent launches', async () => {
    const sdk = sdkFor(sim.ec2)
    const seeded = sim.ec2.instance(sim.seededInstanceIds[0]!)!
    const run = await sdk.send(
      new RunInstancesCommand({
        ImageId: seeded.imageId,
        InstanceType: 'm5.large',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: seeded.subnetId,
      }),
    )
    const id = run.Instances![0]!.InstanceId!
    const res = await imdsGet((await sim.imdsOf(id)).url, 'meta-data/instance-type')
    expect(await res.text()).toBe('m5.large')
    expect((await call('GET', '/instances')).body).toHaveLength(3)
  })

  it('sets spot prices, injects failures and counts requests', async () => {
    expect(
      (await call('POST', '/prices/spot', { instanceType: 'x2idn.32xlarge', az: 'us-east-1a', price: 1.25 }))
        .status,
    ).toBe(200)
    expect((await call('POST', '/prices/spot', { instanceType: 'x2idn.32xlarge' })).status).toBe(400)
    const sdk = sdkFor(sim.ec2)
    const prices = await sdk.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['x2idn.32xlarge'] }))
    expect(prices.SpotPriceHistory?.map((p) => p.SpotPrice)).toEqual(['1.250000'])
    await call('POST', '/fail', { action: 'DescribeSpotPriceHistory', code: 'RequestLimitExceeded' })
    await expect(
      sdk.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['x2idn.32xlarge'] })),
    ).rejects.toMatchObject({ name: 'RequestLimitExceeded' })
    expect((await call('GET', '/requests')).body.ec2).toEqual({ DescribeSpotPriceHistory: 2 })
  })

  it('runs as a CLI that prints where everything listens', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fakes/region.ts', '--instances', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const [line] = await createInterface({ input: child.stdout })
        [Symbol.asyncIterator]()
        .next()
        .then((r) => [r.value as string])
      const info = JSON.parse(line!)
      expect(info.instances).toHaveLength(1)
      const listed = (await (await fetch(`${info.control}/instances`)).json()) as Array<{
        instanceId: string
      }>
      expect(listed[0]?.instanceId).toBe(info.instances[0].instanceId)
    } finally {
      child.kill('SIGTERM')
    }
  })
})
