/** RunInstances: validation as EC2 does it, ClientToken idempotency, spot one-time launches. */
import type { ActionHandler } from '../action'
import { Ec2Error, invalidValue, notFound } from '../errors'
import { instanceTypeSpec } from '../../../../src/engine/instance-types'
import {
  AMAZON_OWNER_ID,
  type Ec2State,
  type Image,
  type Instance,
  type InstanceProfile,
  type Lifecycle,
  type Subnet,
  type Tags,
} from '../model'
import { currentSpotPrice, sampleSpotModel } from '../prices'
import { requireSpotCapacity } from '../capacity'
import { list, required, tagSpecifications, type Params } from '../query'
import { reservationBody } from './instances'
import { launchMappings } from './volumes'
import { attachLaunchVolumes } from '../volumes'
import { noDevices, withImageDevices } from '../image-volumes'
import { allocatePrivateIp } from '../interfaces'

export interface InstanceSpec {
  imageId: string
  instanceType: string
  subnet: Subnet
  securityGroupIds: string[]
  profile?: InstanceProfile
  keyName?: string
  userData?: string
  tags: Tags
  /** IMDS serves the instance's tags (off unless asked for, as on EC2) */
  metadataTags?: boolean
  lifecycle: Lifecycle
  clientToken?: string
  reservationId?: string
}

/** Adds a pending instance and tells the launch listeners. */
export function createInstance(state: Ec2State, spec: InstanceSpec): Instance {
  const now = state.clock.now()
  const instanceId = state.nextId('i')
  const n = Number.parseInt(instanceId.slice(2), 16)
  const instance: Instance = {
    instanceId,
    reservationId: spec.reservationId ?? state.nextId('r'),
    imageId: spec.imageId,
    instanceType: spec.instanceType,
    az: spec.subnet.az,
    subnetId: spec.subnet.subnetId,
    vpcId: spec.subnet.vpcId,
    privateIp: allocatePrivateIp(state, spec.subnet, { preferredHost: (n % 250) + 4 }),
    publicIp: spec.subnet.mapPublicIp ? `54.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` : undefined,
    mac: `0a:${[(n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255, 0x11].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
    securityGroupIds: spec.securityGroupIds,
    profile: spec.profile,
    keyName: spec.keyName,
    userData: spec.userData,
    tags: { ...spec.tags },
    metadataTags: spec.metadataTags ?? false,
    lifecycle: spec.lifecycle,
    spotRequestId: spec.lifecycle === 'spot' ? state.nextId('sir', 8) : undefined,
    clientToken: spec.clientToken,
    launchTime: now,
    state: 'pending',
    stateSince: now,
    status: 'not-applicable',
    stateLog: [{ state: 'pending', at: now }],
  }
  state.instances.set(instanceId, instance)
  state.disks?.provision(instanceId, spec.imageId)
  for (const listener of state.launchListeners) listener(instance)
  return instance
}

function positiveInt(params: Params, name: string): number {
  const raw = required(params, name)
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw invalidValue(name, raw)
  return value
}

function resolveSubnet(state: Ec2State, params: Params): Subnet {
  const az = params.get('Placement.AvailabilityZone') ?? undefined
  const subnetId = params.get('SubnetId')
  if (subnetId) {
    const subnet = state.subnets.get(subnetId)
    if (!subnet) throw notFound('InvalidSubnetID.NotFound', 'subnet', subnetId)
    if (az && az !== subnet.az) {
      throw invalidValue(
        'availabilityZone',
        az,
        `is invalid. Subnet '${subnetId}' is in the availability zone ${subnet.az}`,
      )
    }
    return subnet
  }
  if (az && !state.zones.includes(az)) throw invalidValue('availabilityZone', az)
  const fallback = [...state.subnets.values()].find((s) => !az || s.az === az)
  if (!fallback) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user')
  return fallback
}

function resolveProfile(state: Ec2State, params: Params): InstanceProfile | undefined {
  const arn = params.get('IamInstanceProfile.Arn')
  const name = params.get('IamInstanceProfile.Name')
  if (!arn && !name) return undefined
  const profile = [...state.profiles.values()].find((p) => p.arn === arn || p.name === name)
  if (!profile) {
    throw arn
      ? invalidValue('iamInstanceProfile.arn', arn, 'is invalid. Invalid IAM Instance Profile ARN')
      : invalidValue('iamInstanceProfile.name', name!, 'is invalid. Invalid IAM Instance Profile name')
  }
  return profile
}

function resolveLifecycle(state: Ec2State, params: Params, instanceType: string, az: string): Lifecycle {
  const market = params.get('InstanceMarketOptions.MarketType')
  if (!market) return 'on-demand'
  if (market !== 'spot') throw invalidValue('InstanceMarketOptions.MarketType', market)
  const kind = params.get('InstanceMarketOptions.SpotOptions.SpotInstanceType') ?? 'one-time'
  if (kind !== 'one-time' && kind !== 'persistent') throw invalidValue('SpotInstanceType', kind)
  const maxPrice = params.get('InstanceMarketOptions.SpotOptions.MaxPrice')
  sampleSpotModel(state, [instanceType])
  const now = state.clock.now()
  const price = currentSpotPrice(state, instanceType, az, now)
  if (maxPrice && price !== undefined && Number(maxPrice) < price) {
    throw new Ec2Error(
      'SpotMaxPriceTooLow',
      `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${price}.`,
    )
  }
  return 'spot'
}

/**
 * AWS refuses a type whose architecture the image does not boot, and a type that requires ENA with an
 * image without it (types the table does not know pass).
 */
function assertBoots(image: Image, instanceType: string): void {
  const spec = instanceTypeSpec(instanceType)
  if (!spec) return
  if (spec.enaRequired && image.enaSupport === false)
    throw new Ec2Error(
      'InvalidParameterCombination',
      `Enhanced networking with the Elastic Network Adapter (ENA) is required for the '${instanceType}' instance type. Ensure that you are using an AMI that is enabled for ENA.`,
    )
  const imageArchitecture = image.architecture ?? 'x86_64'
  if (spec.architecture === imageArchitecture) return
  throw new Ec2Error(
    'InvalidParameterValue',
    `The architecture '${spec.architecture}' of the specified instance type does not match the architecture '${imageArchitecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.`,
  )
}

export const runInstances: ActionHandler = ({ state, params }) => {
  const clientToken = params.get('ClientToken') || undefined
  const fingerprint = JSON.stringify([...params].filter(([k]) => k !== 'Version').sort())
  if (clientToken) {
    const seen = state.clientTokens.get(clientToken)
    if (seen && seen.fingerprint !== fingerprint) {
      throw new Ec2Error(
        'IdempotentParameterMismatch',
        `Arguments on this idempotent request are inconsistent with arguments used in previous request(s).`,
      )
    }
    if (seen) return reservationXml(state, seen.reservationId)
  }

  const imageId = required(params, 'ImageId')
  const image = state.images.get(imageId)
  if (!image || (image.ownerId !== state.accountId && image.ownerId !== AMAZON_OWNER_ID)) {
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`)
  }
  if (image.state !== 'available')
    throw new Ec2Error('InvalidAMIID.Unavailable', `Image ${imageId} is not available (${image.state})`)
  const minCount = positiveInt(params, 'MinCount')
  const maxCount = positiveInt(params, 'MaxCount')
  if (minCount > maxCount)
    throw invalidValue('MinCount', String(minCount), 'must be less than or equal to MaxCount')
  const instanceType = params.get('InstanceType') ?? 'm1.small'
  assertBoots(image, instanceType)
  const subnet = resolveSubnet(state, params)

  let securityGroupIds = list(params, 'SecurityGroupId')
  for (const id of securityGroupIds) {
    const group = state.securityGroups.get(id)
    if (!group) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`)
    if (group.vpcId !== subnet.vpcId) {
      throw new Ec2Error(
        'InvalidParameter',
        `Security group ${id} and subnet ${subnet.subnetId} belong to different networks.`,
      )
    }
  }
  if (securityGroupIds.length === 0) {
    securityGroupIds = [...state.securityGroups.values()]
      .filter((g) => g.vpcId === subnet.vpcId)
      .slice(0, 1)
      .map((g) => g.groupId)
  }
  const profile = resolveProfile(state, params)
  const keyName = params.get('KeyName') ?? undefined
  if (keyName && !state.keyPairs.has(keyName))
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`)
  const userData = params.get('UserData') ?? undefined
  if (userData && !/^[A-Za-z0-9+/]*={0,2}$/.test(userData))
    throw invalidValue('userData', '(hidden)', 'is not valid base64')
  const specs = tagSpecifications(params)
  for (const type of specs.keys()) {
    if (!['instance', 'volume', 'network-interface', 'spot-instances-request'].includes(type)) {
      throw invalidValue('ResourceType', type, 'is invalid for RunInstances')
    }
  }
  const lifecycle = resolveLifecycle(state, params, instanceType, subnet.az)
  if (lifecycle === 'spot') requireSpotCapacity(state, instanceType, subnet.az, minCount)
  const metadataTags = params.get('MetadataOptions.InstanceMetadataTags') ?? 'disabled'
  if (metadataTags !== 'enabled' && metadataTags !== 'disabled')
    throw invalidValue('InstanceMetadataTags', metadataTags)
  const dataVolumes = withImageDevices(state, image, launchMappings(state, params), noDevices(params))

  const reservationId = state.nextId('r')
  for (let n = 0; n < maxCount; n++) {
    const instance = createInstance(state, {
      imageId,
      instanceType,
      subnet,
      securityGroupIds,
      profile,
      keyName,
      userData,
      tags: specs.get('instance') ?? {},
      metadataTags: metadataTags === 'enabled',
      lifecycle,
      clientToken,
      reservationId,
    })
    attachLaunchVolumes(state, instance, dataVolumes, specs.get('volume'))
  }
  if (clientToken) state.clientTokens.set(clientToken, { reservationId, fingerprint })
  return reservationXml(state, reservationId)
}

function reservationXml(state: Ec2State, reservationId: string): string {
  const members = [...state.instances.values()].filter((i) => i.reservationId === reservationId)
  return reservationBody(state, reservationId, members)
}
