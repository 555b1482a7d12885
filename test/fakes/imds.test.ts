import { DescribeInstancesCommand } from '@aws-sdk/client-ec2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock, type ManualClock } from './clock'
import { startFakeEc2, type FakeEc2 } from './ec2/server'
import { seedWorkload, type SeededWorkload } from './ec2/workload'
import { imdsFor } from './imds/link'
import type { FakeImds } from './imds/server'
import { sdkFor } from './sdk'

let clock: ManualClock
let ec2: FakeEc2
let imds: FakeImds
let w: SeededWorkload

beforeEach(async () => {
  clock = manualClock()
  ec2 = await startFakeEc2({ clock })
  w = seedWorkload(ec2)
  imds = await imdsFor(ec2, w.instanceId)
})
afterEach(async () => {
  await imds.close()
  await ec2.close()
})

async function token(ttl = '21600'): Promise<string> {
  const res = await fetch(`${imds.url}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl },
  })
  expect(res.status).toBe(200)
  return res.text()
}

async function get(path: string, t: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${imds.url}/latest/${path}`, { headers: { 'x-aws-ec2-metadata-token': t } })
  return { status: res.status, body: await res.text() }
}

describe('fake IMDS (v2 only)', () => {
  it('refuses every GET without a valid token, and tokens with a bad TTL', async () => {
    expect((await fetch(`${imds.url}/latest/meta-data/instance-id`)).status).toBe(401)
    expect((await get('meta-data/instance-id', 'made-up')).status).toBe(401)
    const noTtl = await fetch(`${imds.url}/latest/api/token`, { method: 'PUT' })
    expect(noTtl.status).toBe(400)
    const tooLong = await fetch(`${imds.url}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' },
    })
    expect(tooLong.status).toBe(400)
    expect(imds.counts).toMatchObject({ tokenFetches: 0, unauthorized: 2 })
  })

  it('expires a token with the clock', async () => {
    const t = await token('60')
    expect((await get('meta-data/instance-id', t)).status).toBe(200)
    clock.advance(60_000)
    expect((await get('meta-data/instance-id', t)).status).toBe(401)
    expect(imds.counts.tokenFetches).toBe(1)
    expect(imds.requests.map((r) => [r.method, r.status, r.at - clock.now()])).toEqual([
      ['PUT', 200, -60_000],
      ['GET', 200, -60_000],
      ['GET', 401, 0],
    ])
  })

  it('serves the identity of the linked EC2 instance', async () => {
    const t = await token()
    const i = ec2.instance(w.instanceId)!
    expect((await get('meta-data/instance-id', t)).body).toBe(w.instanceId)
    expect((await get('meta-data/instance-type', t)).body).toBe('t3.medium')
    expect((await get('meta-data/instance-life-cycle', t)).body).toBe('spot')
    expect((await get('meta-data/placement/availability-zone', t)).body).toBe('us-east-1a')
    expect((await get('meta-data/placement/region', t)).body).toBe('us-east-1')
    expect((await get('meta-data/ami-id', t)).body).toBe(w.launchImageId)
    expect((await get('meta-data/local-ipv4', t)).body).toBe(i.privateIp)
    expect((await get('meta-data/public-ipv4', t)).body).toBe(w.publicIp)
    const mac = (await get('meta-data/mac', t)).body
    expect((await get(`meta-data/network/interfaces/macs/${mac}/vpc-id`, t)).body).toBe(w.vpcId)
    expect((await get(`meta-data/network/interfaces/macs/${mac}/subnet-id`, t)).body).toBe(
      w.subnets['us-east-1a'],
    )
    expect((await get(`meta-data/network/interfaces/macs/${mac}/security-group-ids`, t)).body).toBe(
      w.securityGroupId,
    )
    const doc = JSON.parse((await get('dynamic/instance-identity/document', t)).body)
    expect(doc).toMatchObject({
      instanceId: w.instanceId,
      region: 'us-east-1',
      availabilityZone: 'us-east-1a',
      accountId: '123456789012',
    })
    expect((await get('meta-data/nothing-here', t)).status).toBe(404)
    const root = (await get('meta-data/', t)).body.split('\n')
    expect(root).toEqual(
      expect.arrayContaining(['ami-id', 'instance-id', 'placement/', 'network/', 'iam/', 'events/']),
    )
    expect((await get(`meta-data/network/interfaces/macs/`, t)).body).toBe(`${mac}/`)
  })

  it('shows public-ipv4 as 404 once the Elastic IP moved away and the subnet gave none', async () => {
    const t = await token()
    ec2.state.addresses.get(w.allocationId)!.instanceId = undefined
    ec2.instance(w.instanceId)!.publicIp = undefined
    expect((await get('meta-data/public-ipv4', t)).status).toBe(404)
  })

  it('serves the instance tags only when instance metadata tags are enabled, live as EC2 changes them', async () => {
    const t = await token()
    // EC2 launches with metadata tags off: IMDS answers 404 (a client then asks EC2 itself).
    expect((await get('meta-data/tags/instance', t)).status).toBe(404)
    expect((await get('meta-data/tags/instance/LogicalAgentId', t)).status).toBe(404)
    expect((await get('meta-data/', t)).body.split('\n')).not.toContain('tags/')

    const tagged = ec2.seed.addInstance({
      imageId: w.launchImageId,
      instanceType: 't3.medium',
      subnetId: w.subnets['us-east-1a']!,
      securityGroupIds: [w.securityGroupId],
      tags: { LogicalAgentId: 'web', Team: 'core' },
      metadataTags: true,
    })
    const other = await imdsFor(ec2, tagged.instanceId)
    try {
      const read = async (path: string) => {
        const res = await fetch(`${other.url}/latest/${path}`, {
          headers: {
            'x-aws-ec2-metadata-token': await (
              await fetch(`${other.url}/latest/api/token`, {
                method: 'PUT',
                headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
              })
            ).text(),
          },
        })
        return { status: res.status, body: await res.text() }
      }
      expect(await read('meta-data/tags/instance')).toEqual({ status: 200, body: 'LogicalAgentId\nTeam' })
      expect(await read('meta-data/tags/instance/LogicalAgentId')).toEqual({ status: 200, body: 'web' })
      expect(await read('meta-data/tags/instance/ReplicaId')).toMatchObject({ status: 404 })
      tagged.tags.ReplicaId = 'rep-1'
      expect(await read('meta-data/tags/instance/ReplicaId')).toEqual({ status: 200, body: 'rep-1' })
      const out = await sdkFor(ec2).send(
        new DescribeInstancesCommand({ InstanceIds: [tagged.instanceId, w.instanceId] }),
      )
      const options = out
        .Reservations!.flatMap((r) => r.Instances!)
        .map((i) => [i.InstanceId, i.MetadataOptions?.InstanceMetadataTags])
      expect(options).toEqual([
        [tagged.instanceId, 'enabled'],
        [w.instanceId, 'disabled'],
      ])
      // Enabled with no tags at all: an empty listing, still not the 404 of "not enabled".
      for (const key of Object.keys(tagged.tags)) delete tagged.tags[key]
      expect(await read('meta-data/tags/instance')).toEqual({ status: 200, body: '' })
    } finally {
      await other.close()
    }
  })

  it('answers 404 for notices until they are injected, then their JSON, until cleared', async () => {
    const t = await token()
    expect((await get('meta-data/spot/instance-action', t)).status).toBe(404)
    expect((await get('meta-data/events/recommendations/rebalance', t)).status).toBe(404)
    expect((await get('meta-data/events/maintenance/scheduled', t)).body).toBe('[]')
    imds.interrupt({ action: 'terminate', time: Date.parse('2026-01-01T00:02:00Z') })
    imds.rebalance(Date.parse('2026-01-01T00:00:10Z'))
    imds.scheduledEvent({
      Code: 'system-reboot',
      Description: 'scheduled reboot',
      NotBefore: Date.parse('2026-01-21T09:00:43Z'),
    })
    expect(JSON.parse((await get('meta-data/spot/instance-action', t)).body)).toEqual({
      action: 'terminate',
      time: '2026-01-01T00:02:00Z',
    })
    expect(JSON.parse((await get('meta-data/events/recommendations/rebalance', t)).body)).toEqual({
      noticeTime: '2026-01-01T00:00:10Z',
    })
    expect(JSON.parse((await get('meta-data/events/maintenance/scheduled', t)).body)).toEqual([
      {
        Code: 'system-reboot',
        Description: 'scheduled reboot',
        NotBefore: '21 Jan 2026 09:00:43 GMT',
        State: 'active',
        EventId: 'instance-event-0fake',
      },
    ])
    imds.clear()
    expect((await get('meta-data/spot/instance-action', t)).status).toBe(404)
  })

  it('hands out role credentials that the fake EC2 accepts, and rotates them', async () => {
    const t = await token()
    expect((await get('meta-data/iam/security-credentials/', t)).body).toBe('spotguard-role')
    const info = JSON.parse((await get('meta-data/iam/info', t)).body)
    expect(info).toMatchObject({ Code: 'Success', InstanceProfileArn: w.profile.arn })
    const creds = JSON.parse((await get('meta-data/iam/security-credentials/spotguard-role', t)).body)
    expect(creds).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC', Expiration: '2026-01-01T06:00:00Z' })
    const asRole = {
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      sessionToken: creds.Token,
    }
    await expect(sdkFor(ec2, asRole).send(new DescribeInstancesCommand({}))).resolves.toBeDefined()

    const rotated = imds.rotateCredentials()
    expect(rotated.accessKeyId).not.toBe(creds.AccessKeyId)
    const next = JSON.parse((await get('meta-data/iam/security-credentials/spotguard-role', t)).body)
    expect(next.AccessKeyId).toBe(rotated.accessKeyId)
    await expect(
      sdkFor(ec2, {
        accessKeyId: next.AccessKeyId,
        secretAccessKey: next.SecretAccessKey,
        sessionToken: next.Token,
      }).send(new DescribeInstancesCommand({})),
    ).resolves.toBeDefined()
  })

  it('renews credentials shortly before they expire', async () => {
    const t = await token()
    const first = JSON.parse((await get('meta-data/iam/security-credentials/spotguard-role', t)).body)
    clock.advance(6 * 3_600_000 - 10 * 60_000)
    const t2 = await token()
    const second = JSON.parse((await get('meta-data/iam/security-credentials/spotguard-role', t2)).body)
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId)
    expect(Date.parse(second.Expiration)).toBeGreaterThan(Date.parse(first.Expiration))
    expect(imds.counts.tokenFetches).toBe(2)
  })
})
