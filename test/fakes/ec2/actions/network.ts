/** DescribeSubnets, DescribeAddresses, AssociateAddress, DescribeAvailabilityZones. */
import type { ActionHandler } from '../action'
import { Ec2Error, notFound } from '../errors'
import type { Address } from '../model'
import { bool, filters, list, matchesAll, required, tagField } from '../query'
import { itemSet, leaf, tagSet } from '../xml'

export const describeSubnets: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'SubnetId')
  for (const id of ids) if (!state.subnets.has(id)) throw notFound('InvalidSubnetID.NotFound', 'subnet', id)
  const wanted = filters(params)
  const subnets = [...state.subnets.values()]
    .filter((s) => ids.length === 0 || ids.includes(s.subnetId))
    .filter((s) =>
      matchesAll(wanted, (name) => {
        if (name === 'vpc-id') return [s.vpcId]
        if (name === 'availability-zone' || name === 'availabilityZone') return [s.az]
        if (name === 'subnet-id') return [s.subnetId]
        if (name === 'state') return ['available']
        if (name === 'cidr-block') return [s.cidr]
        return tagField(s.tags, name)
      }),
    )
  return itemSet('subnetSet', subnets, (s) =>
    [
      leaf('subnetId', s.subnetId),
      leaf('subnetArn', `arn:aws:ec2:${state.region}:${state.accountId}:subnet/${s.subnetId}`),
      leaf('state', 'available'),
      leaf('ownerId', state.accountId),
      leaf('vpcId', s.vpcId),
      leaf('cidrBlock', s.cidr),
      leaf('availableIpAddressCount', 250),
      leaf('availabilityZone', s.az),
      leaf('availabilityZoneId', zoneId(state.region, s.az)),
      leaf('defaultForAz', false),
      leaf('mapPublicIpOnLaunch', s.mapPublicIp),
      tagSet(s.tags),
    ].join(''),
  )
}

function addressXml(a: Address, privateIp: string | undefined): string {
  return [
    leaf('publicIp', a.publicIp),
    leaf('allocationId', a.allocationId),
    leaf('domain', 'vpc'),
    leaf('instanceId', a.instanceId),
    leaf('associationId', a.associationId),
    leaf('networkInterfaceId', a.instanceId ? `eni-${a.instanceId.slice(2)}` : undefined),
    leaf('privateIpAddress', privateIp),
    leaf('publicIpv4Pool', 'amazon'),
    tagSet(a.tags),
  ].join('')
}

export const describeAddresses: ActionHandler = ({ state, params }) => {
  const allocationIds = list(params, 'AllocationId')
  for (const id of allocationIds) {
    if (!state.addresses.has(id))
      throw new Ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`)
  }
  const publicIps = list(params, 'PublicIp')
  const wanted = filters(params)
  const addresses = [...state.addresses.values()]
    .filter((a) => allocationIds.length === 0 || allocationIds.includes(a.allocationId))
    .filter((a) => publicIps.length === 0 || publicIps.includes(a.publicIp))
    .filter((a) =>
      matchesAll(wanted, (name) => {
        if (name === 'instance-id') return a.instanceId ? [a.instanceId] : []
        if (name === 'allocation-id') return [a.allocationId]
        if (name === 'public-ip') return [a.publicIp]
        if (name === 'association-id') return a.associationId ? [a.associationId] : []
        if (name === 'domain') return ['vpc']
        return tagField(a.tags, name)
      }),
    )
  return itemSet('addressesSet', addresses, (a) =>
    addressXml(a, a.instanceId ? state.instances.get(a.instanceId)?.privateIp : undefined),
  )
}

export const associateAddress: ActionHandler = ({ state, params }) => {
  const allocationId = required(params, 'AllocationId')
  const instanceId = required(params, 'InstanceId')
  const address = state.addresses.get(allocationId)
  if (!address)
    throw new Ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${allocationId}' does not exist`)
  const instance = state.instances.get(instanceId)
  if (!instance) throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  // What EC2 answers an association by instance id with a pending (or stopped, terminated...) instance.
  // By network interface it would be `IncorrectInstanceState`: "The pending-instance-creation
  // instance to which 'eni-...' is attached is not in a valid state for this operation".
  if (instance.state !== 'running') {
    throw new Ec2Error(
      'InvalidInstanceID',
      `The ${instance.state} instance '${instanceId}' is not in a valid state for this operation.`,
    )
  }
  if (address.instanceId && address.instanceId !== instanceId && !bool(params, 'AllowReassociation')) {
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `resource ${allocationId} is already associated with associate-id ${address.associationId}`,
    )
  }
  // An instance holds one Elastic IP here: a second association replaces the first, as on one interface.
  for (const other of state.addresses.values()) {
    if (other !== address && other.instanceId === instanceId) {
      other.instanceId = undefined
      other.associationId = undefined
    }
  }
  address.instanceId = instanceId
  address.associationId = state.nextId('eipassoc')
  return leaf('return', true) + leaf('associationId', address.associationId)
}

/** The AZ id EC2 gives a zone name: `use1-az1` for `us-east-1a`, `apse1-az2` for `ap-southeast-1b`. */
export function zoneId(region: string, az: string): string {
  const [area = '', direction = '', n = ''] = region.split('-')
  const short = direction.replace(/north|south|east|west|central/g, (word) => word[0]!)
  return `${area}${short}${n}-az${az.charCodeAt(az.length - 1) - 96}`
}

export const describeAvailabilityZones: ActionHandler = ({ state, params }) => {
  const names = list(params, 'ZoneName')
  const wanted = filters(params)
  const zones = state.zones
    .filter((z) => names.length === 0 || names.includes(z))
    .filter((z) =>
      matchesAll(wanted, (name) => {
        if (name === 'zone-name') return [z]
        if (name === 'region-name') return [state.region]
        if (name === 'state') return ['available']
        if (name === 'zone-type') return ['availability-zone']
        return undefined
      }),
    )
  return itemSet('availabilityZoneInfo', zones, (z) =>
    [
      leaf('zoneName', z),
      leaf('zoneState', 'available'),
      leaf('regionName', state.region),
      leaf('zoneId', zoneId(state.region, z)),
      leaf('zoneType', 'availability-zone'),
      leaf('optInStatus', 'opt-in-not-required'),
      leaf('groupName', state.region),
      leaf('networkBorderGroup', state.region),
      '<messageSet/>',
    ].join(''),
  )
}
