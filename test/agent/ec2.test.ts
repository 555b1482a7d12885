import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEc2, Ec2Error, parseXml, items, text } from '../../agent/src/ec2-transport'
import {
  describeInstance,
  describeSnapshots,
  describeSpotPriceHistory,
  describeUserData,
  runInstance,
} from '../../agent/src/ec2-operations'
import { memoryLog } from '../../agent/src/log'
import { seedWorkload, startFakeEc2, TEST_CREDENTIALS, type FakeEc2, type SeededWorkload } from '../fakes'
import { instantClock } from './support/clock'

let fake: FakeEc2
let workload: SeededWorkload
const credentials = { get: async () => ({ ...TEST_CREDENTIALS, expiresAt: null }) }

beforeEach(async () => {
  fake = await startFakeEc2()
  workload = seedWorkload(fake, { lifecycle: 'spot' })
})
afterEach(() => fake.close())

function client(opts: { dryRun?: boolean } = {}) {
  const clock = instantClock()
  const log = memoryLog()
  const ec2 = createEc2({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials,
    clock,
    log,
    dryRun: opts.dryRun ?? false,
  })
  return { ec2, clock, log }
}

describe('EC2 Query API client', () => {
  it('signs with the session token and parses DescribeInstances into facts', async () => {
    const { ec2 } = client()
    const facts = await describeInstance(ec2, workload.instanceId)
    expect(facts).toMatchObject({
      instanceId: workload.instanceId,
      state: 'running',
      instanceType: 't3.medium',
      vpcId: workload.vpcId,
      securityGroupIds: [workload.securityGroupId],
      instanceProfileArn: workload.profile.arn,
      keyName: workload.keyName,
      imageId: workload.launchImageId,
      mode: 'spot',
      publicIp: workload.publicIp,
    })
    expect(facts!.tags).toMatchObject({ Name: 'web-1', LogicalAgentId: 'agent-web-1', Team: 'core' })
    expect(fake.requests.every((r) => r.status === 200)).toBe(true)
  })

  it('reads user data as the base64 EC2 returns', async () => {
    const { ec2 } = client()
    const data = await describeUserData(ec2, workload.instanceId)
    expect(Buffer.from(data!, 'base64').toString()).toBe('#!/bin/bash\necho hello')
  })

  it('turns a capacity error into a typed, non-retried failure', async () => {
    const { ec2 } = client()
    fake.failNext('DescribeInstances', 'InsufficientInstanceCapacity')
    const err = await describeInstance(ec2, workload.instanceId).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Ec2Error)
    expect(err).toMatchObject({ code: 'InsufficientInstanceCapacity', kind: 'capacity', retryable: true })
    expect(fake.count('DescribeInstances')).toBe(1)
  })

  it('retries RequestLimitExceeded with growing backoff, then succeeds', async () => {
    const { ec2, clock } = client()
    fake.failNext('DescribeInstances', 'RequestLimitExceeded', { times: 3 })
    expect(await describeInstance(ec2, workload.instanceId)).not.toBeNull()
    expect(fake.count('DescribeInstances')).toBe(4)
    expect(clock.slept).toEqual([1000, 2000, 4000])
  })

  it('gives up after five throttled attempts', async () => {
    const { ec2 } = client()
    fake.failNext('DescribeInstances', 'RequestLimitExceeded', { times: 10 })
    await expect(describeInstance(ec2, workload.instanceId)).rejects.toMatchObject({ kind: 'throttled' })
    expect(fake.count('DescribeInstances')).toBe(5)
  })

  it('reports UnauthorizedOperation as unauthorized', async () => {
    const { ec2 } = client()
    fake.deny('DescribeInstanceAttribute')
    await expect(describeUserData(ec2, workload.instanceId)).rejects.toMatchObject({
      code: 'UnauthorizedOperation',
      kind: 'unauthorized',
    })
  })

  it('is rejected by the fake when the signature is wrong (bad secret)', async () => {
    const clock = instantClock()
    const bad = { get: async () => ({ ...TEST_CREDENTIALS, secretAccessKey: 'wrong', expiresAt: null }) }
    const ec2 = createEc2({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: bad,
      clock,
      log: memoryLog(),
      dryRun: false,
    })
    await expect(describeInstance(ec2, workload.instanceId)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    })
  })

  it('in dry-run, reads are made and writes are only logged', async () => {
    const { ec2, log } = client({ dryRun: true })
    expect(await describeInstance(ec2, workload.instanceId)).not.toBeNull()
    const launch = runInstance(ec2, {
      imageId: workload.launchImageId,
      instanceType: 't3.medium',
      subnetId: null,
      securityGroupIds: [],
      instanceProfileArn: null,
      keyName: null,
      userData: 'c2VjcmV0',
      mode: 'spot',
      tags: {},
      clientToken: 'sg-x',
    })
    await expect(launch).rejects.toMatchObject({ kind: 'dry_run' })
    expect(fake.count('RunInstances')).toBe(0)
    const line = log.lines.find((l) => l.msg === 'dry run: EC2 write not made')
    expect(line).toMatchObject({ action: 'RunInstances' })
    expect(JSON.stringify(line)).not.toContain('c2VjcmV0')
  })

  it('asks for spot prices of every AZ in one call with a StartTime', async () => {
    const { ec2, clock } = client()
    fake.setSpotPrice('t3.medium', 'us-east-1b', 0.0131)
    const rows = await describeSpotPriceHistory(ec2, 't3.medium', 'Linux/UNIX', clock.now() - 3600_000)
    expect(rows.some((r) => r.az === 'us-east-1b' && r.price === 0.0131)).toBe(true)
    expect(fake.count('DescribeSpotPriceHistory')).toBe(1)
    expect(fake.requests[0]!.params.StartTime).toBeTruthy()
    expect(fake.requests[0]!.params['AvailabilityZone']).toBeUndefined()
  })
})

describe('paginated reads', () => {
  it('follow nextToken until the last page', async () => {
    const pages = [
      '<R><snapshotSet><item><snapshotId>snap-1</snapshotId></item></snapshotSet><nextToken>t2</nextToken></R>',
      '<R><snapshotSet><item><snapshotId>snap-2</snapshotId></item></snapshotSet></R>',
    ]
    const seen: Array<Record<string, unknown>> = []
    const ec2 = {
      region: 'us-east-1',
      read: async (_action: string, params: Record<string, unknown> = {}) => (
        seen.push(params),
        parseXml(pages[seen.length - 1]!)
      ),
      write: async () => ({}),
      dryRun: async () => ({ allowed: true as const }),
    }
    const snapshots = await describeSnapshots(ec2, [{ name: 'tag:ManagedBy', values: ['SpotOptimizer'] }])
    expect(snapshots.map((s) => s.snapshotId)).toEqual(['snap-1', 'snap-2'])
    expect(seen[1]).toMatchObject({ NextToken: 't2', 'Filter.1.Name': 'tag:ManagedBy' })
  })
})

describe('parseXml', () => {
  it('always gives item lists, even with one item, and an empty list for an empty set', () => {
    const one = parseXml('<R><set><item><id>a</id></item></set><none/></R>')
    expect(items(one.set).map((i) => text(i, 'id'))).toEqual(['a'])
    expect(items(one.none)).toEqual([])
  })
})
