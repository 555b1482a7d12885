import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { AwsV4Signer } from 'aws4fetch'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  manualClock,
  seedWorkload,
  startFakeEc2,
  startFakeElbv2,
  TEST_CREDENTIALS,
  type FakeEc2,
  type FakeElbv2,
  type ManualClock,
  type SeededWorkload,
} from '.'

let clock: ManualClock
let ec2: FakeEc2
let elbv2: FakeElbv2
let w: SeededWorkload
let sdk: ElasticLoadBalancingV2Client

beforeEach(async () => {
  clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
  ec2 = await startFakeEc2({ clock })
  w = seedWorkload(ec2)
  elbv2 = await startFakeElbv2(ec2)
  sdk = new ElasticLoadBalancingV2Client({
    endpoint: elbv2.url,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  })
})
afterEach(async () => {
  sdk.destroy()
  await Promise.all([elbv2.close(), ec2.close()])
})

const healthOf = async (arn: string, targets?: Array<{ Id: string; Port?: number }>) =>
  (
    await sdk.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: targets }))
  ).TargetHealthDescriptions!.map((d) => [
    d.Target!.Id,
    d.Target!.Port,
    d.TargetHealth!.State,
    d.TargetHealth!.Reason,
  ])

describe('fake ELBv2 through the AWS SDK', () => {
  it('describes target groups, paged, by ARN and by name', async () => {
    const web = elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId, port: 8080 })
    const api = elbv2.addTargetGroup({ name: 'api', vpcId: w.vpcId })
    const first = await sdk.send(new DescribeTargetGroupsCommand({ PageSize: 1 }))
    expect(first.TargetGroups!.map((g) => g.TargetGroupName)).toEqual(['web'])
    expect(first.TargetGroups![0]).toMatchObject({
      TargetGroupArn: web,
      Port: 8080,
      Protocol: 'HTTP',
      VpcId: w.vpcId,
      TargetType: 'instance',
    })
    const second = await sdk.send(new DescribeTargetGroupsCommand({ PageSize: 1, Marker: first.NextMarker }))
    expect(second.TargetGroups!.map((g) => g.TargetGroupArn)).toEqual([api])
    expect(second.NextMarker).toBeUndefined()
    const byName = await sdk.send(new DescribeTargetGroupsCommand({ Names: ['api'] }))
    expect(byName.TargetGroups!.map((g) => g.TargetGroupArn)).toEqual([api])
  })

  it('registers (initial, then healthy), deregisters (draining for the delay by the clock, then gone)', async () => {
    const arn = elbv2.addTargetGroup({
      name: 'web',
      vpcId: w.vpcId,
      deregistrationDelaySeconds: 60,
      healthySeconds: 30,
    })
    await sdk.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: w.instanceId }] }))
    expect(await healthOf(arn)).toEqual([[w.instanceId, 80, 'initial', 'Elb.RegistrationInProgress']])
    clock.advance(30_000)
    expect(await healthOf(arn)).toEqual([[w.instanceId, 80, 'healthy', undefined]])

    await sdk.send(
      new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: w.instanceId, Port: 80 }] }),
    )
    expect(await healthOf(arn)).toEqual([[w.instanceId, 80, 'draining', 'Target.DeregistrationInProgress']])
    clock.advance(59_999)
    expect(await healthOf(arn)).toHaveLength(1)
    clock.advance(1)
    expect(await healthOf(arn)).toEqual([])
    expect(await healthOf(arn, [{ Id: w.instanceId }])).toEqual([
      [w.instanceId, 80, 'unused', 'Target.NotRegistered'],
    ])
    expect(elbv2.events.map((e) => [e.kind, e.at - Date.parse('2026-01-01T00:00:00Z')])).toEqual([
      ['registered', 0],
      ['deregistering', 30_000],
      ['drained', 90_000],
    ])
  })

  it('answers the errors ELBv2 does: unknown group, unknown or stopped target, missing permission', async () => {
    const arn = elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId })
    const missingGroup = arn.replace(/[0-9a-f]{16}$/, '0000000000000000')
    await expect(
      sdk.send(new DescribeTargetHealthCommand({ TargetGroupArn: missingGroup })),
    ).rejects.toMatchObject({
      name: 'TargetGroupNotFoundException',
      $metadata: { httpStatusCode: 400 },
    })
    await expect(
      sdk.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: 'i-0000000000000dead' }] })),
    ).rejects.toMatchObject({ name: 'InvalidTargetException' })
    ec2.terminate(w.instanceId)
    await expect(
      sdk.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: w.instanceId }] })),
    ).rejects.toMatchObject({
      name: 'InvalidTargetException',
      message: `The following targets are not in a running state and cannot be registered: '${w.instanceId}'`,
    })
    elbv2.deny('DescribeTargetGroups')
    await expect(sdk.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    })
  })

  it('checks SigV4 for the elasticloadbalancing service, its region and known keys', async () => {
    const stranger = new ElasticLoadBalancingV2Client({
      endpoint: elbv2.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    })
    await expect(stranger.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      $metadata: { httpStatusCode: 403 },
    })
    stranger.destroy()
    const wrongRegion = new ElasticLoadBalancingV2Client({
      endpoint: elbv2.url,
      region: 'eu-west-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    })
    await expect(wrongRegion.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    })
    wrongRegion.destroy()
    // Signed for EC2 (the agent's other Query API) with good keys: refused all the same.
    const body = 'Action=DescribeTargetGroups&Version=2015-12-01'
    const signed = await new AwsV4Signer({
      url: `${elbv2.url}/`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      ...TEST_CREDENTIALS,
      service: 'ec2',
      region: 'us-east-1',
    }).sign()
    const answer = await fetch(signed.url, { method: 'POST', headers: signed.headers, body })
    expect(answer.status).toBe(403)
    expect(await answer.text()).toContain('<Code>SignatureDoesNotMatch</Code>')
    expect(elbv2.requests.map((r) => r.code)).toEqual([
      'InvalidClientTokenId',
      'SignatureDoesNotMatch',
      'SignatureDoesNotMatch',
    ])
  })
})
