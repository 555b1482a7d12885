/** DescribeInstances, DescribeInstanceStatus, DescribeInstanceAttribute, TerminateInstances. */
import { isoSeconds } from '../../clock'
import type { ActionHandler } from '../action'
import { Ec2Error, invalidValue } from '../errors'
import { beginTermination } from '../lifecycle'
import { STATE_CODES, publicIpOf, type Ec2State, type Instance } from '../model'
import { bool, filters, list, matchesAll, paginate, required, tagField, type Params } from '../query'
import { itemSet, leaf, node, tagSet } from '../xml'
import { interfacesOf } from '../interfaces'
import { volumesOf } from '../volumes'
import { interfaceXml } from './interfaces'

/** The instances named by `InstanceId.N` (all of them when none), rejecting unknown ids as EC2 does. */
export function selectInstances(state: Ec2State, params: Params, prefix = 'InstanceId'): Instance[] {
  const ids = list(params, prefix)
  if (ids.length === 0) return [...state.instances.values()]
  const missing = ids.filter((id) => !state.instances.has(id))
  if (missing.length === 1)
    throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`)
  if (missing.length > 1)
    throw new Ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`)
  return ids.map((id) => state.instances.get(id)!)
}

function instanceField(state: Ec2State, i: Instance, name: string): string[] | undefined {
  switch (name) {
    case 'instance-id':
      return [i.instanceId]
    case 'instance-state-name':
      return [i.state]
    case 'instance-state-code':
      return [String(STATE_CODES[i.state])]
    case 'instance-type':
      return [i.instanceType]
    case 'availability-zone':
      return [i.az]
    case 'vpc-id':
      return [i.vpcId]
    case 'subnet-id':
      return [i.subnetId]
    case 'image-id':
      return [i.imageId]
    case 'instance-lifecycle':
      return i.lifecycle === 'spot' ? ['spot'] : []
    case 'client-token':
      return i.clientToken ? [i.clientToken] : []
    case 'key-name':
      return i.keyName ? [i.keyName] : []
    case 'private-ip-address':
      return [i.privateIp]
    case 'ip-address': {
      const ip = publicIpOf(state, i)
      return ip ? [ip] : []
    }
    case 'instance.group-id':
      return i.securityGroupIds
    case 'iam-instance-profile.arn':
      return i.profile ? [i.profile.arn] : []
    case 'reservation-id':
      return [i.reservationId]
    case 'block-device-mapping.volume-id':
      return volumesOf(state, i.instanceId).map((v) => v.volumeId)
    case 'block-device-mapping.device-name':
      return volumesOf(state, i.instanceId).map((v) => v.attachment!.device)
    case 'network-interface.network-interface-id':
      return interfacesOf(state, i).map((eni) => eni.networkInterfaceId)
    case 'network-interface.addresses.private-ip-address':
      return interfacesOf(state, i).map((eni) => eni.privateIp)
    default:
      return tagField(i.tags, name)
  }
}

export function instanceXml(state: Ec2State, i: Instance): string {
  const publicIp = publicIpOf(state, i)
  const privateDns = i.state === 'terminated' ? '' : `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`
  return [
    leaf('instanceId', i.instanceId),
    leaf('imageId', i.imageId),
    node('instanceState', leaf('code', STATE_CODES[i.state]), leaf('name', i.state)),
    leaf('privateDnsName', privateDns),
    leaf('dnsName', publicIp ? `ec2-${publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com` : ''),
    leaf(
      'reason',
      i.stateReason ? `${i.stateReason.message.split(':')[0]} (${isoSeconds(i.stateSince)})` : '',
    ),
    leaf('keyName', i.keyName),
    leaf('amiLaunchIndex', 0),
    leaf('instanceType', i.instanceType),
    leaf('launchTime', isoSeconds(i.launchTime)),
    node('placement', leaf('availabilityZone', i.az), leaf('groupName', ''), leaf('tenancy', 'default')),
    node('monitoring', leaf('state', 'disabled')),
    leaf('subnetId', i.state === 'terminated' ? undefined : i.subnetId),
    leaf('vpcId', i.state === 'terminated' ? undefined : i.vpcId),
    leaf('privateIpAddress', i.state === 'terminated' ? undefined : i.privateIp),
    leaf('ipAddress', publicIp),
    itemSet(
      'groupSet',
      i.securityGroupIds,
      (id) => leaf('groupId', id) + leaf('groupName', state.securityGroups.get(id)?.groupName),
    ),
    i.stateReason
      ? node('stateReason', leaf('code', i.stateReason.code), leaf('message', i.stateReason.message))
      : '',
    leaf('architecture', 'x86_64'),
    leaf('rootDeviceType', 'ebs'),
    leaf('rootDeviceName', '/dev/xvda'),
    itemSet(
      'blockDeviceMapping',
      volumesOf(state, i.instanceId),
      (v) =>
        leaf('deviceName', v.attachment!.device) +
        node(
          'ebs',
          leaf('volumeId', v.volumeId),
          leaf('status', v.attachment!.state),
          leaf('attachTime', new Date(v.attachment!.attachTime).toISOString()),
          leaf('deleteOnTermination', v.attachment!.deleteOnTermination),
        ),
    ),
    leaf('instanceLifecycle', i.lifecycle === 'spot' ? 'spot' : undefined),
    leaf('spotInstanceRequestId', i.spotRequestId),
    leaf('virtualizationType', 'hvm'),
    leaf('clientToken', i.clientToken ?? ''),
    tagSet(i.tags),
    leaf('hypervisor', 'xen'),
    itemSet('networkInterfaceSet', interfacesOf(state, i), (eni) => interfaceXml(state, eni)),
    i.profile ? node('iamInstanceProfile', leaf('arn', i.profile.arn), leaf('id', i.profile.id)) : '',
    node(
      'metadataOptions',
      leaf('state', 'applied'),
      leaf('httpTokens', 'required'),
      leaf('httpPutResponseHopLimit', 2),
      leaf('httpEndpoint', 'enabled'),
      leaf('instanceMetadataTags', i.metadataTags ? 'enabled' : 'disabled'),
    ),
    leaf('ebsOptimized', false),
  ].join('')
}

/** A reservation's own fields: RunInstances answers with them at the top level, DescribeInstances in items. */
export function reservationBody(state: Ec2State, reservationId: string, members: Instance[]): string {
  return [
    leaf('reservationId', reservationId),
    leaf('ownerId', state.accountId),
    '<groupSet/>',
    itemSet('instancesSet', members, (i) => instanceXml(state, i)),
  ].join('')
}

/** Instances grouped back into their reservations, keeping order. */
function reservationSetXml(state: Ec2State, instances: Instance[]): string {
  const groups = new Map<string, Instance[]>()
  for (const i of instances) groups.set(i.reservationId, [...(groups.get(i.reservationId) ?? []), i])
  return itemSet('reservationSet', [...groups], ([reservationId, members]) =>
    reservationBody(state, reservationId, members),
  )
}

export const describeInstances: ActionHandler = ({ state, params }) => {
  const wanted = filters(params)
  const matching = selectInstances(state, params).filter((i) =>
    matchesAll(wanted, (name) => instanceField(state, i, name)),
  )
  const { page, nextToken } = paginate(params, matching, 5, 1000)
  return reservationSetXml(state, page) + leaf('nextToken', nextToken)
}

function statusXml(name: 'systemStatus' | 'instanceStatus', status: Instance['status']): string {
  const detail = status === 'ok' ? 'passed' : status
  const details =
    status === 'not-applicable'
      ? '<details/>'
      : itemSet('details', [detail], (d) => leaf('name', 'reachability') + leaf('status', d))
  return node(name, leaf('status', status), details)
}

export const describeInstanceStatus: ActionHandler = ({ state, params }) => {
  const includeAll = bool(params, 'IncludeAllInstances')
  const wanted = filters(params)
  const matching = selectInstances(state, params)
    .filter((i) => includeAll || i.state === 'running')
    .filter((i) =>
      matchesAll(wanted, (name) => {
        if (name === 'instance-status.status' || name === 'system-status.status') return [i.status]
        if (name === 'availability-zone') return [i.az]
        if (name === 'instance-state-name') return [i.state]
        return undefined
      }),
    )
  const { page, nextToken } = paginate(params, matching, 5, 1000)
  return (
    itemSet('instanceStatusSet', page, (i) =>
      [
        leaf('instanceId', i.instanceId),
        leaf('availabilityZone', i.az),
        node('instanceState', leaf('code', STATE_CODES[i.state]), leaf('name', i.state)),
        statusXml('systemStatus', i.status),
        statusXml('instanceStatus', i.status),
      ].join(''),
    ) + leaf('nextToken', nextToken)
  )
}

export const describeInstanceAttribute: ActionHandler = ({ state, params }) => {
  const [instance] = selectInstances(
    state,
    new URLSearchParams({ 'InstanceId.1': required(params, 'InstanceId') }),
  )
  const attribute = required(params, 'Attribute')
  const head = leaf('instanceId', instance!.instanceId)
  switch (attribute) {
    case 'userData':
      return head + (instance!.userData ? node('userData', leaf('value', instance!.userData)) : '<userData/>')
    case 'instanceType':
      return head + node('instanceType', leaf('value', instance!.instanceType))
    case 'groupSet':
      return head + itemSet('groupSet', instance!.securityGroupIds, (id) => leaf('groupId', id))
    default:
      throw invalidValue('attribute', attribute)
  }
}

export const terminateInstances: ActionHandler = ({ state, params }) => {
  if (list(params, 'InstanceId').length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId')
  const targets = selectInstances(state, params)
  const changes = targets.map((i) => ({ i, previous: beginTermination(state, i) }))
  return itemSet('instancesSet', changes, ({ i, previous }) =>
    [
      leaf('instanceId', i.instanceId),
      node('currentState', leaf('code', STATE_CODES[i.state]), leaf('name', i.state)),
      node('previousState', leaf('code', STATE_CODES[previous]), leaf('name', previous)),
    ].join(''),
  )
}
