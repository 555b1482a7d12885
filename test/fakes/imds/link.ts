/** One fake IMDS per fake EC2 instance: a live view of it, whose role credentials the fakes of AWS accept. */
import type { FakeEc2 } from '../ec2/server'
import type { FakeElbv2 } from '../elbv2/server'
import { publicIpOf } from '../ec2/model'
import type { FakePricing } from '../pricing'
import { startFakeImds, type FakeImds } from './server'

export async function imdsFor(
  ec2: FakeEc2,
  instanceId: string,
  opts: { pricing?: FakePricing; elbv2?: FakeElbv2; role?: string; credentialTtlMs?: number; port?: number } = {},
): Promise<FakeImds> {
  if (!ec2.instance(instanceId)) throw new Error(`imdsFor: no instance ${instanceId}`)
  return startFakeImds({
    clock: ec2.state.clock,
    role: opts.role,
    credentialTtlMs: opts.credentialTtlMs,
    port: opts.port,
    onCredentials: (credentials) => {
      ec2.addCredentials(credentials)
      opts.pricing?.addCredentials(credentials)
      opts.elbv2?.addCredentials(credentials)
    },
    instance: () => {
      const i = ec2.instance(instanceId)!
      return {
        instanceId: i.instanceId,
        instanceType: i.instanceType,
        imageId: i.imageId,
        az: i.az,
        region: ec2.state.region,
        accountId: ec2.state.accountId,
        privateIp: i.privateIp,
        publicIp: publicIpOf(ec2.state, i),
        mac: i.mac,
        vpcId: i.vpcId,
        subnetId: i.subnetId,
        securityGroupIds: i.securityGroupIds,
        lifecycle: i.lifecycle,
        profile: i.profile ? { arn: i.profile.arn, id: i.profile.id } : undefined,
        launchTime: i.launchTime,
        tags: i.metadataTags ? { ...i.tags } : undefined,
      }
    },
  })
}
