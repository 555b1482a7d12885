/** One call that seeds a typical managed workload: what the agent finds on a real account before it starts. */
import type { Lifecycle } from './model'
import type { FakeEc2 } from './server'

export interface SeededWorkload {
  vpcId: string
  subnets: Record<string, string>
  securityGroupId: string
  profile: { name: string; arn: string }
  keyName: string
  launchImageId: string
  instanceId: string
  allocationId: string
  publicIp: string
}

export const WORKLOAD_TAGS = { Name: 'web-1', LogicalAgentId: 'agent-web-1', Team: 'core' }
export const WORKLOAD_USER_DATA = '#!/bin/bash\necho hello'

/**
 * A VPC with a subnet per zone, a security group, an instance profile, a key pair, an Amazon launch AMI
 * (or the given `imageId`, a customer's golden image), a running instance (WORKLOAD_TAGS merged with
 * `tags`, user data) in the first zone (or `az`), and an Elastic IP on it.
 */
export function seedWorkload(
  ec2: FakeEc2,
  opts: {
    instanceType?: string
    lifecycle?: Lifecycle
    az?: string
    tags?: Record<string, string>
    imageId?: string
    /** IMDS serves the instance's tags */
    metadataTags?: boolean
  } = {},
): SeededWorkload {
  const { vpcId, subnets } = ec2.seed.addVpc()
  const securityGroupId = ec2.seed.addSecurityGroup(vpcId, 'web')
  const profile = ec2.seed.addInstanceProfile('spotguard-web')
  const keyName = ec2.seed.addKeyPair('ops-key')
  const launchImageId = opts.imageId ?? ec2.seed.addImage({ name: 'al2023-ami-2026.1.0-x86_64' })
  const az = opts.az ?? ec2.state.zones[0]!
  const subnetId = subnets[az]
  if (!subnetId) throw new Error(`seedWorkload: no zone ${az}`)
  const instance = ec2.seed.addInstance({
    imageId: launchImageId,
    instanceType: opts.instanceType ?? 't3.medium',
    subnetId,
    securityGroupIds: [securityGroupId],
    profileName: profile.name,
    keyName,
    tags: { ...WORKLOAD_TAGS, ...opts.tags },
    userData: WORKLOAD_USER_DATA,
    lifecycle: opts.lifecycle ?? 'spot',
    metadataTags: opts.metadataTags,
  })
  const { allocationId, publicIp } = ec2.seed.addAddress({ instanceId: instance.instanceId })
  return {
    vpcId,
    subnets,
    securityGroupId,
    profile,
    keyName,
    launchImageId,
    instanceId: instance.instanceId,
    allocationId,
    publicIp,
  }
}
