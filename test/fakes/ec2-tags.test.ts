import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { useFakeEc2 } from './ec2-fixture'
import { WORKLOAD_TAGS } from './ec2/workload'

const fx = useFakeEc2()

describe('fake EC2 tags through @aws-sdk/client-ec2', () => {
  it('describes the tags of one resource by filter, as an instance reads its own without instance metadata tags', async () => {
    await fx.sdk.send(
      new CreateTagsCommand({ Resources: [fx.w.instanceId], Tags: [{ Key: 'ReplicaId', Value: 'rep-1' }] }),
    )
    const out = await fx.sdk.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [fx.w.instanceId] }] }),
    )
    const tags = Object.fromEntries(out.Tags!.map((t) => [t.Key, t.Value]))
    expect(tags).toEqual({ ...WORKLOAD_TAGS, ReplicaId: 'rep-1' })
    expect(new Set(out.Tags!.map((t) => `${t.ResourceId}/${t.ResourceType}`))).toEqual(
      new Set([`${fx.w.instanceId}/instance`]),
    )

    const one = await fx.sdk.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'resource-type', Values: ['instance'] },
          { Name: 'key', Values: ['LogicalAgentId'] },
        ],
      }),
    )
    expect(one.Tags).toEqual([
      { ResourceId: fx.w.instanceId, ResourceType: 'instance', Key: 'LogicalAgentId', Value: 'agent-web-1' },
    ])
  })

  it('pages DescribeTags by MaxResults and NextToken, and refuses an unknown filter', async () => {
    const seen: string[] = []
    let NextToken: string | undefined
    do {
      const page = await fx.sdk.send(new DescribeTagsCommand({ MaxResults: 5, NextToken }))
      expect(page.Tags!.length).toBeLessThanOrEqual(5)
      seen.push(...page.Tags!.map((t) => `${t.ResourceId}:${t.Key}`))
      NextToken = page.NextToken
    } while (NextToken)
    expect(seen).toContain(`${fx.w.instanceId}:Team`)
    expect(new Set(seen).size).toBe(seen.length)
    await expect(
      fx.sdk.send(new DescribeTagsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' })
  })

  it('launches with instance metadata tags only when RunInstances asks for them', async () => {
    const launch = (options?: { InstanceMetadataTags: 'enabled' | 'disabled' }) =>
      fx.sdk.send(
        new RunInstancesCommand({
          ImageId: fx.w.launchImageId,
          InstanceType: 't3.medium',
          MinCount: 1,
          MaxCount: 1,
          MetadataOptions: options,
        }),
      )
    const on = (await launch({ InstanceMetadataTags: 'enabled' })).Instances![0]!
    const off = (await launch()).Instances![0]!
    expect(on.MetadataOptions?.InstanceMetadataTags).toBe('enabled')
    expect(fx.ec2.instance(on.InstanceId!)?.metadataTags).toBe(true)
    const described = await fx.sdk.send(new DescribeInstancesCommand({ InstanceIds: [off.InstanceId!] }))
    expect(described.Reservations![0]!.Instances![0]!.MetadataOptions?.InstanceMetadataTags).toBe('disabled')
  })
})
