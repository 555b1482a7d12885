/**
 * Network interfaces: those CreateNetworkInterface makes (`state.networkInterfaces`, which this module
 * owns) and each instance's primary interface, derived from the instance (device index 0, never detached,
 * gone with the instance). Private IPs come from the subnet and are never handed out twice while in use.
 */
import { Ec2Error, invalidValue } from './errors'
import type { Ec2State, Instance, NetworkInterface, Subnet, Tags } from './model'

/** An interface as DescribeNetworkInterfaces and DescribeInstances show it. */
export interface InterfaceView extends NetworkInterface {
  status: 'available' | 'in-use'
  /** The instance's own interface (device index 0) */
  isPrimary: boolean
}

export function primaryInterfaceId(instance: Instance): string {
  return `eni-${instance.instanceId.slice(2)}`
}

export function primaryAttachmentId(instance: Instance): string {
  return `eni-attach-${instance.instanceId.slice(2)}`
}

export function interfaceNotFound(id: string): Ec2Error {
  return new Ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`)
}

function primaryView(instance: Instance): InterfaceView {
  return {
    networkInterfaceId: primaryInterfaceId(instance),
    subnetId: instance.subnetId,
    vpcId: instance.vpcId,
    az: instance.az,
    privateIp: instance.privateIp,
    mac: instance.mac,
    description: '',
    groupIds: instance.securityGroupIds,
    sourceDestCheck: true,
    tags: {},
    status: 'in-use',
    attachment: {
      attachmentId: primaryAttachmentId(instance),
      instanceId: instance.instanceId,
      deviceIndex: 0,
      attachTime: instance.launchTime,
      deleteOnTermination: true,
    },
    isPrimary: true,
  }
}

/** A created interface as it shows. */
export function managedView(eni: NetworkInterface): InterfaceView {
  return { ...eni, status: eni.attachment ? 'in-use' : 'available', isPrimary: false }
}

/** Every interface of the account: created ones, then the primaries of instances not terminated. */
export function interfaceViews(state: Ec2State): InterfaceView[] {
  return [
    ...[...state.networkInterfaces.values()].map(managedView),
    ...[...state.instances.values()].filter((i) => i.state !== 'terminated').map(primaryView),
  ]
}

/** An instance's interfaces by device index (none once terminated). */
export function interfacesOf(state: Ec2State, instance: Instance): InterfaceView[] {
  if (instance.state === 'terminated') return []
  const secondary = [...state.networkInterfaces.values()]
    .filter((eni) => eni.attachment?.instanceId === instance.instanceId)
    .map(managedView)
  return [primaryView(instance), ...secondary].sort(
    (a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex,
  )
}

/** The first three octets of a subnet (the fake's subnets are /24s). */
function subnetBase(subnet: Subnet): string {
  return subnet.cidr.split('/')[0]!.split('.').slice(0, 3).join('.')
}

/** Addresses of a subnet held now by an instance (not terminated) or an interface. */
function addressesInUse(state: Ec2State, subnet: Subnet): Set<string> {
  const used = new Set<string>()
  for (const i of state.instances.values())
    if (i.subnetId === subnet.subnetId && i.state !== 'terminated') used.add(i.privateIp)
  for (const eni of state.networkInterfaces.values())
    if (eni.subnetId === subnet.subnetId) used.add(eni.privateIp)
  return used
}

/**
 * A free private IP of the subnet (a /24 here; hosts .4–.254, AWS keeps the first four): `wanted` if
 * given (refused when outside the subnet or in use), else the first free host from `preferredHost` on.
 */
export function allocatePrivateIp(
  state: Ec2State,
  subnet: Subnet,
  opts: { wanted?: string; preferredHost?: number } = {},
): string {
  const base = subnetBase(subnet)
  const used = addressesInUse(state, subnet)
  if (opts.wanted !== undefined) {
    const host = Number(opts.wanted.split('.')[3])
    if (!opts.wanted.startsWith(`${base}.`) || !Number.isInteger(host) || host < 4 || host > 254)
      throw invalidValue(
        'PrivateIpAddress',
        opts.wanted,
        `is invalid: it is not in the subnet ${subnet.cidr}`,
      )
    if (used.has(opts.wanted))
      throw new Ec2Error('InvalidIPAddress.InUse', `Address ${opts.wanted} is in use.`)
    return opts.wanted
  }
  const start = opts.preferredHost ?? 100
  for (let k = 0; k < 251; k++) {
    const ip = `${base}.${((start - 4 + k) % 251) + 4}`
    if (!used.has(ip)) return ip
  }
  throw new Ec2Error(
    'InsufficientFreeAddressesInSubnet',
    `The specified subnet ${subnet.subnetId} does not have enough free addresses to satisfy the request.`,
  )
}

/** What a terminated instance leaves: interfaces attached with DeleteOnTermination deleted, the others available. */
export function releaseInterfaces(state: Ec2State, instance: Instance): void {
  for (const eni of state.networkInterfaces.values()) {
    if (eni.attachment?.instanceId !== instance.instanceId) continue
    if (eni.attachment.deleteOnTermination) state.networkInterfaces.delete(eni.networkInterfaceId)
    else eni.attachment = undefined
  }
}

/**
 * A new interface in the subnet with a free private IP (or `privateIp`, refused when taken) and the
 * groups given (none: the VPC's first group, as EC2 gives its default group).
 */
export function createInterface(
  state: Ec2State,
  subnet: Subnet,
  opts: { groupIds: string[]; privateIp?: string; description?: string; tags?: Tags },
): NetworkInterface {
  const privateIp = allocatePrivateIp(state, subnet, { wanted: opts.privateIp })
  const networkInterfaceId = state.nextId('eni')
  const n = Number.parseInt(networkInterfaceId.slice(4), 16)
  const eni: NetworkInterface = {
    networkInterfaceId,
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    az: subnet.az,
    privateIp,
    mac: `0e:${[(n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255, 0x2e].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
    description: opts.description ?? '',
    groupIds: opts.groupIds.length
      ? opts.groupIds
      : [...state.securityGroups.values()]
          .filter((g) => g.vpcId === subnet.vpcId)
          .slice(0, 1)
          .map((g) => g.groupId),
    sourceDestCheck: true,
    tags: { ...opts.tags },
  }
  state.networkInterfaces.set(networkInterfaceId, eni)
  return eni
}

/**
 * Attaches a created interface at `deviceIndex` (≥ 1: 0 is the primary's) with EC2's checks: one
 * instance per interface, a running or stopped instance, the same AZ, a free device index.
 */
export function attachInterface(
  state: Ec2State,
  eni: NetworkInterface,
  instance: Instance,
  deviceIndex: number,
): NonNullable<NetworkInterface['attachment']> {
  if (eni.attachment)
    throw new Ec2Error('InvalidNetworkInterface.InUse', `Interface: [${eni.networkInterfaceId}] in use.`)
  if (instance.state !== 'running' && instance.state !== 'stopped') {
    throw new Ec2Error(
      'IncorrectInstanceState',
      `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
    )
  }
  if (eni.az !== instance.az) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'You may not attach a network interface to an instance if they are not in the same availability zone',
    )
  }
  if (interfacesOf(state, instance).some((other) => other.attachment!.deviceIndex === deviceIndex)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Instance '${instance.instanceId}' already has an interface attached at device index '${deviceIndex}'.`,
    )
  }
  eni.attachment = {
    attachmentId: state.nextId('eni-attach'),
    instanceId: instance.instanceId,
    deviceIndex,
    attachTime: state.clock.now(),
    deleteOnTermination: false,
  }
  return eni.attachment
}
