import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEc2 } from '../../agent/src/ec2-transport'
import { chooseIdentity, readInstanceTags } from '../../agent/src/identity'
import { createImds } from '../../agent/src/imds'
import { memoryLog } from '../../agent/src/log'
import {
  imdsFor,
  seedWorkload,
  startFakeEc2,
  TEST_CREDENTIALS,
  type FakeEc2,
  type SeededWorkload,
} from '../fakes'
import { instantClock } from './support/clock'

let ec2: FakeEc2
let w: SeededWorkload

beforeEach(async () => {
  ec2 = await startFakeEc2()
  w = seedWorkload(ec2, { lifecycle: 'spot' })
})
afterEach(() => ec2.close())

/** Reads the tags of `instanceId` as the agent does at start, through its IMDS and the fake EC2. */
async function tagsOf(instanceId: string) {
  const fake = await imdsFor(ec2, instanceId)
  try {
    const clock = instantClock()
    const credentials = { get: async () => ({ ...TEST_CREDENTIALS, expiresAt: null }) }
    const client = createEc2({
      region: 'us-east-1',
      endpoint: ec2.url,
      credentials,
      clock,
      log: memoryLog(),
      dryRun: false,
    })
    return await readInstanceTags(
      createImds(fake.url, clock),
      client,
      instanceId,
      clock,
      new AbortController().signal,
    )
  } finally {
    await fake.close()
  }
}

describe('the instance tags', () => {
  it('come from IMDS when instance metadata tags are enabled, without an EC2 call', async () => {
    const replica = ec2.seed.addInstance({
      imageId: w.launchImageId,
      instanceType: 't3.medium',
      subnetId: w.subnets['us-east-1b']!,
      securityGroupIds: [w.securityGroupId],
      tags: { LogicalAgentId: 'agent-web-1', ReplicaId: 'rep-1', Team: 'core' },
      metadataTags: true,
    })
    ec2.clearLog()
    expect(await tagsOf(replica.instanceId)).toEqual({
      tags: { LogicalAgentId: 'agent-web-1', ReplicaId: 'rep-1' },
      via: 'imds',
    })
    expect(ec2.requests).toEqual([])
  })

  it('come from EC2 (DescribeInstances on itself) when IMDS does not serve them', async () => {
    const read = await tagsOf(w.instanceId)
    expect(read).toMatchObject({ via: 'ec2', tags: { LogicalAgentId: 'agent-web-1' } })
    expect(ec2.requests.map((r) => [r.action, r.params['InstanceId.1']])).toEqual([
      ['DescribeInstances', w.instanceId],
    ])
  })

  it('are unknown, after one try, when EC2 refuses: the agent still registers', async () => {
    ec2.deny('DescribeInstances')
    expect(await tagsOf(w.instanceId)).toMatchObject({
      tags: null,
      why: expect.stringContaining('UnauthorizedOperation'),
    })
    expect(ec2.count('DescribeInstances')).toBe(1)
  })
})

describe('the logical identity', () => {
  it('is the tag, then what this instance registered before, then the env file, then the instance id', () => {
    expect(chooseIdentity({ LogicalAgentId: 'web' }, 'stored', 'configured', 'i-1')).toEqual({
      logicalAgentId: 'web',
      source: 'tag',
      replicaId: null,
    })
    expect(chooseIdentity({ Team: 'core' }, 'stored', 'configured', 'i-1')).toMatchObject({
      logicalAgentId: 'stored',
      source: 'state',
    })
    expect(chooseIdentity(null, null, 'configured', 'i-1')).toMatchObject({
      logicalAgentId: 'configured',
      source: 'env',
    })
    expect(chooseIdentity({}, null, null, 'i-1')).toMatchObject({ logicalAgentId: 'i-1', source: 'instance' })
  })

  it('says when the instance is a replica', () => {
    expect(chooseIdentity({ LogicalAgentId: 'web', ReplicaId: 'rep-1' }, null, null, 'i-2')).toEqual({
      logicalAgentId: 'web',
      source: 'tag',
      replicaId: 'rep-1',
    })
  })
})
