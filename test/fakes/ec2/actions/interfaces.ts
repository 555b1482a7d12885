/**
 * CreateNetworkInterface, DescribeNetworkInterfaces, AttachNetworkInterface, DetachNetworkInterface,
 * DeleteNetworkInterface, ModifyNetworkInterfaceAttribute, over the interfaces of ../interfaces.ts.
 */
import type { ActionHandler } from '../action'
import { Ec2Error, invalidValue, notFound } from '../errors'
import {
  attachInterface,
  createInterface,
  interfaceNotFound,
  interfaceViews,
  managedView,
  type InterfaceView,
} from '../interfaces'
import type { Ec2State, NetworkInterface } from '../model'
import {
  filters,
  list,
  matchesAll,
  paginate,
  required,
  tagField,
  tagSpecifications,
  type Params,
} from '../query'
import { RETURN_TRUE, itemSet, leaf, node, tagSet } from '../xml'

/** An interface as DescribeNetworkInterfaces lists it and DescribeInstances nests it in its instance. */
export function interfaceXml(state: Ec2State, eni: InterfaceView): string {
  const dns = `ip-${eni.privateIp.replace(/\./g, '-')}.ec2.internal`
  const a = eni.attachment
  return [
    leaf('networkInterfaceId', eni.networkInterfaceId),
    leaf('subnetId', eni.subnetId),
    leaf('vpcId', eni.vpcId),
    leaf('availabilityZone', eni.az),
    leaf('description', eni.description),
    leaf('ownerId', state.accountId),
    leaf('requesterManaged', false),
    leaf('status', eni.status),
    leaf('macAddress', eni.mac),
    leaf('privateIpAddress', eni.privateIp),
    leaf('privateDnsName', dns),
    leaf('sourceDestCheck', eni.sourceDestCheck),
    itemSet(
      'groupSet',
      eni.groupIds,
      (id) => leaf('groupId', id) + leaf('groupName', state.securityGroups.get(id)?.groupName),
    ),
    a
      ? node(
          'attachment',
          leaf('attachmentId', a.attachmentId),
          leaf('instanceId', a.instanceId),
          leaf('instanceOwnerId', state.accountId),
          leaf('deviceIndex', a.deviceIndex),
          leaf('networkCardIndex', 0),
          leaf('status', 'attached'),
          leaf('attachTime', new Date(a.attachTime).toISOString()),
          leaf('deleteOnTermination', a.deleteOnTermination),
        )
      : '',
    itemSet(
      'privateIpAddressesSet',
      [eni.privateIp],
      (ip) => leaf('privateIpAddress', ip) + leaf('privateDnsName', dns) + leaf('primary', true),
    ),
    '<ipv6AddressesSet/>',
    tagSet(eni.tags),
    leaf('interfaceType', 'interface'),
  ].join('')
}

/** A created interface (not an instance's primary one), or the error EC2 gives. */
function requireManaged(state: Ec2State, id: string): NetworkInterface {
  const eni = state.networkInterfaces.get(id)
  if (eni) return eni
  if (interfaceViews(state).some((v) => v.networkInterfaceId === id))
    throw new Ec2Error('InvalidNetworkInterface.InUse', `The network interface '${id}' is currently in use.`)
  throw interfaceNotFound(id)
}

/** `SecurityGroupId.N`, each existing in the VPC. */
function groupsIn(state: Ec2State, params: Params, vpcId: string): string[] {
  const ids = list(params, 'SecurityGroupId')
  for (const id of ids) {
    const group = state.securityGroups.get(id)
    if (!group || group.vpcId !== vpcId)
      throw new Ec2Error(
        'InvalidGroup.NotFound',
        `The security group '${id}' does not exist in VPC '${vpcId}'`,
      )
  }
  return ids
}

export const createNetworkInterface: ActionHandler = ({ state, params }) => {
  const subnetId = required(params, 'SubnetId')
  const subnet = state.subnets.get(subnetId)
  if (!subnet) throw notFound('InvalidSubnetID.NotFound', 'subnet', subnetId)
  const groupIds = groupsIn(state, params, subnet.vpcId)
  const specs = tagSpecifications(params)
  for (const type of specs.keys())
    if (type !== 'network-interface')
      throw invalidValue('ResourceType', type, 'is invalid for CreateNetworkInterface')
  const eni = createInterface(state, subnet, {
    groupIds,
    privateIp: params.get('PrivateIpAddress') ?? undefined,
    description: params.get('Description') ?? undefined,
    tags: specs.get('network-interface'),
  })
  return node('networkInterface', interfaceXml(state, managedView(eni)))
}

function interfaceField(eni: InterfaceView, name: string): string[] | undefined {
  const a = eni.attachment
  switch (name) {
    case 'network-interface-id':
      return [eni.networkInterfaceId]
    case 'subnet-id':
      return [eni.subnetId]
    case 'vpc-id':
      return [eni.vpcId]
    case 'availability-zone':
      return [eni.az]
    case 'status':
      return [eni.status]
    case 'private-ip-address':
    case 'addresses.private-ip-address':
      return [eni.privateIp]
    case 'mac-address':
      return [eni.mac]
    case 'description':
      return [eni.description]
    case 'group-id':
      return eni.groupIds
    case 'source-dest-check':
      return [String(eni.sourceDestCheck)]
    case 'interface-type':
      return ['interface']
    case 'requester-managed':
      return ['false']
    case 'attachment.instance-id':
      return a ? [a.instanceId] : []
    case 'attachment.attachment-id':
      return a ? [a.attachmentId] : []
    case 'attachment.device-index':
      return a ? [String(a.deviceIndex)] : []
    case 'attachment.status':
      return a ? ['attached'] : []
    case 'attachment.delete-on-termination':
      return a ? [String(a.deleteOnTermination)] : []
    default:
      return tagField(eni.tags, name)
  }
}

export const describeNetworkInterfaces: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'NetworkInterfaceId')
  const all = interfaceViews(state)
  for (const id of ids) if (!all.some((v) => v.networkInterfaceId === id)) throw interfaceNotFound(id)
  const wanted = filters(params)
  const matching = all
    .filter((v) => ids.length === 0 || ids.includes(v.networkInterfaceId))
    .filter((v) => matchesAll(wanted, (name) => interfaceField(v, name)))
  const { page, nextToken } = paginate(params, matching, 5, 1000)
  return itemSet('networkInterfaceSet', page, (v) => interfaceXml(state, v)) + leaf('nextToken', nextToken)
}

export const attachNetworkInterface: ActionHandler = ({ state, params }) => {
  const eni = requireManaged(state, required(params, 'NetworkInterfaceId'))
  const instanceId = required(params, 'InstanceId')
  const rawIndex = required(params, 'DeviceIndex')
  const instance = state.instances.get(instanceId)
  if (!instance) throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  const deviceIndex = Number(rawIndex)
  if (!Number.isInteger(deviceIndex) || deviceIndex < 0) throw invalidValue('deviceIndex', rawIndex)
  const attachment = attachInterface(state, eni, instance, deviceIndex)
  return leaf('attachmentId', attachment.attachmentId) + leaf('networkCardIndex', 0)
}

export const detachNetworkInterface: ActionHandler = ({ state, params }) => {
  const attachmentId = required(params, 'AttachmentId')
  const eni = [...state.networkInterfaces.values()].find((e) => e.attachment?.attachmentId === attachmentId)
  if (eni) {
    eni.attachment = undefined
    return RETURN_TRUE
  }
  if (interfaceViews(state).some((v) => v.attachment?.attachmentId === attachmentId))
    throw new Ec2Error('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.')
  throw new Ec2Error('InvalidAttachmentID.NotFound', `The attachment ID '${attachmentId}' does not exist`)
}

export const deleteNetworkInterface: ActionHandler = ({ state, params }) => {
  const eni = requireManaged(state, required(params, 'NetworkInterfaceId'))
  if (eni.attachment) {
    throw new Ec2Error(
      'InvalidNetworkInterface.InUse',
      `The network interface '${eni.networkInterfaceId}' is currently in use.`,
    )
  }
  state.networkInterfaces.delete(eni.networkInterfaceId)
  return RETURN_TRUE
}

/**
 * `SourceDestCheck.Value`, `SecurityGroupId.N`, `Description.Value`, `Attachment.AttachmentId` +
 * `Attachment.DeleteOnTermination`; an instance's primary interface takes security groups only.
 */
export const modifyNetworkInterfaceAttribute: ActionHandler = ({ state, params }) => {
  const id = required(params, 'NetworkInterfaceId')
  const view = interfaceViews(state).find((v) => v.networkInterfaceId === id)
  if (!view) throw interfaceNotFound(id)
  const groups = list(params, 'SecurityGroupId').length ? groupsIn(state, params, view.vpcId) : undefined
  if (view.isPrimary) {
    const instance = state.instances.get(view.attachment!.instanceId)!
    if (!groups) throw invalidValue('attribute', id, 'is not modelled for a primary interface (groups only)')
    instance.securityGroupIds = groups
    return RETURN_TRUE
  }
  const eni = state.networkInterfaces.get(id)!
  const check = params.get('SourceDestCheck.Value')
  if (check !== null && check !== 'true' && check !== 'false') throw invalidValue('sourceDestCheck', check)
  const attachmentId = params.get('Attachment.AttachmentId')
  if (attachmentId !== null && eni.attachment?.attachmentId !== attachmentId)
    throw new Ec2Error('InvalidAttachmentID.NotFound', `The attachment ID '${attachmentId}' does not exist`)
  const changes = [groups, check, params.get('Description.Value'), attachmentId].filter((c) => c != null)
  if (changes.length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain an attribute to modify')
  if (groups) eni.groupIds = groups
  if (check !== null) eni.sourceDestCheck = check === 'true'
  const description = params.get('Description.Value')
  if (description !== null) eni.description = description
  if (attachmentId !== null)
    eni.attachment!.deleteOnTermination = params.get('Attachment.DeleteOnTermination') === 'true'
  return RETURN_TRUE
}
