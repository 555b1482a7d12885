/**
 * Typed EC2 calls of the stateful mode (issue 15): data volumes and the workload's managed network
 * interface, over the Query transport as ec2-operations.ts does (params in, plain facts out).
 */
import { child, items, text, type Ec2, type Xml } from '../../ec2-transport'
import { filterParams, listParams, tagSpecParams, tagsOf, type Filter, type Tags } from '../../ec2-operations'

export interface VolumeFacts {
  volumeId: string
  /** `creating` | `available` | `in-use`... */
  state: string
  az: string
  /** GiB */
  size: number
  /** `gp3`, `io2`... (null: EC2 did not say) */
  volumeType: string | null
  /** Provisioned IOPS and throughput (MiB/s), null when EC2 did not say */
  iops: number | null
  throughput: number | null
  tags: Tags
  attachment: {
    instanceId: string
    device: string
    /** `attaching` | `attached` | `detaching` */
    state: string
    deleteOnTermination: boolean
  } | null
}

export interface InterfaceFacts {
  eniId: string
  privateIp: string
  subnetId: string
  az: string
  groupIds: string[]
  sourceDestCheck: boolean
  tags: Tags
  attachment: { attachmentId: string; instanceId: string; deviceIndex: number } | null
}

function volumeOf(x: Xml): VolumeFacts {
  const a = items(x.attachmentSet)[0]
  return {
    volumeId: text(x, 'volumeId') ?? '',
    state: text(x, 'status') ?? 'unknown',
    az: text(x, 'availabilityZone') ?? '',
    size: Number(text(x, 'size') ?? 0),
    volumeType: text(x, 'volumeType'),
    iops: numberOrNull(text(x, 'iops')),
    throughput: numberOrNull(text(x, 'throughput')),
    tags: tagsOf(x),
    attachment: a
      ? {
          instanceId: text(a, 'instanceId') ?? '',
          device: text(a, 'device') ?? '',
          state: text(a, 'status') ?? 'unknown',
          deleteOnTermination: text(a, 'deleteOnTermination') === 'true',
        }
      : null,
  }
}

function numberOrNull(raw: string | null): number | null {
  return raw === null || raw === '' ? null : Number(raw)
}

function interfaceOf(x: Xml): InterfaceFacts {
  const a = child(x, 'attachment')
  const attachmentId = text(a, 'attachmentId')
  return {
    eniId: text(x, 'networkInterfaceId') ?? '',
    privateIp: text(x, 'privateIpAddress') ?? '',
    subnetId: text(x, 'subnetId') ?? '',
    az: text(x, 'availabilityZone') ?? '',
    groupIds: items(x.groupSet).flatMap((g) => text(g, 'groupId') ?? []),
    sourceDestCheck: text(x, 'sourceDestCheck') !== 'false',
    tags: tagsOf(x),
    attachment: attachmentId
      ? {
          attachmentId,
          instanceId: text(a, 'instanceId') ?? '',
          deviceIndex: Number(text(a, 'deviceIndex') ?? -1),
        }
      : null,
  }
}

/** Volumes by id or by filters (all pages). */
export async function describeVolumes(
  ec2: Ec2,
  ids: string[],
  filters: Filter[] = [],
): Promise<VolumeFacts[]> {
  const out: VolumeFacts[] = []
  let next: string | null = null
  do {
    const params = { ...listParams('VolumeId', ids), ...filterParams(filters) }
    const page = await ec2.read('DescribeVolumes', next ? { ...params, NextToken: next } : params)
    for (const x of items(page.volumeSet)) out.push(volumeOf(x))
    next = text(page, 'nextToken')
  } while (next)
  return out
}

/** The volumes attached (in any attachment state) to an instance, its root volume included. */
export function describeVolumesOf(ec2: Ec2, instanceId: string): Promise<VolumeFacts[]> {
  return describeVolumes(ec2, [], [{ name: 'attachment.instance-id', values: [instanceId] }])
}

/** A volume attached to an instance at a device. */
export type AttachedVolume = VolumeFacts & { attachment: NonNullable<VolumeFacts['attachment']> }

/** The data volumes of an instance (all attached but its root device), by device name. */
export async function dataVolumesOf(
  ec2: Ec2,
  instance: { instanceId: string; rootDevice: string | null },
): Promise<AttachedVolume[]> {
  const root = instance.rootDevice ?? '/dev/xvda'
  return (await describeVolumesOf(ec2, instance.instanceId))
    .filter((v): v is AttachedVolume => v.attachment !== null && v.attachment.device !== root)
    .sort((a, b) => a.attachment.device.localeCompare(b.attachment.device))
}

export async function attachVolume(ec2: Ec2, volumeId: string, instanceId: string, device: string) {
  await ec2.write('AttachVolume', { VolumeId: volumeId, InstanceId: instanceId, Device: device })
}

export async function detachVolume(ec2: Ec2, volumeId: string, instanceId: string) {
  await ec2.write('DetachVolume', { VolumeId: volumeId, InstanceId: instanceId })
}

export async function describeInterfaces(ec2: Ec2, filters: Filter[]): Promise<InterfaceFacts[]> {
  const out: InterfaceFacts[] = []
  let next: string | null = null
  do {
    const params = filterParams(filters)
    const page = await ec2.read('DescribeNetworkInterfaces', next ? { ...params, NextToken: next } : params)
    for (const x of items(page.networkInterfaceSet)) out.push(interfaceOf(x))
    next = text(page, 'nextToken')
  } while (next)
  return out
}

export async function createInterface(
  ec2: Ec2,
  subnetId: string,
  groupIds: string[],
  description: string,
  tags: Tags,
): Promise<InterfaceFacts> {
  const answer = await ec2.write('CreateNetworkInterface', {
    SubnetId: subnetId,
    Description: description,
    ...listParams('SecurityGroupId', groupIds),
    ...tagSpecParams(['network-interface'], tags),
  })
  return interfaceOf(child(answer, 'networkInterface'))
}

export async function attachInterface(ec2: Ec2, eniId: string, instanceId: string, deviceIndex: number) {
  const answer = await ec2.write('AttachNetworkInterface', {
    NetworkInterfaceId: eniId,
    InstanceId: instanceId,
    DeviceIndex: deviceIndex,
  })
  return text(answer, 'attachmentId') ?? ''
}

export async function detachInterface(ec2: Ec2, attachmentId: string) {
  await ec2.write('DetachNetworkInterface', { AttachmentId: attachmentId })
}

/** Types whose IOPS (and for gp3 throughput) are set at creation; EC2 refuses them for the others. */
const PROVISIONED_IOPS = new Set(['gp3', 'io1', 'io2'])

/**
 * A new volume in `az` from a completed snapshot, tagged at creation, of the same type, size and
 * performance as `like` (what it does not say: the snapshot's size, EC2's default type); answers it (`creating`).
 */
export async function createVolumeFrom(
  ec2: Ec2,
  snapshotId: string,
  az: string,
  like: Partial<Pick<VolumeFacts, 'size' | 'volumeType' | 'iops' | 'throughput'>>,
  tags: Tags,
): Promise<VolumeFacts> {
  const provisioned = like.volumeType != null && PROVISIONED_IOPS.has(like.volumeType)
  const answer = await ec2.write('CreateVolume', {
    SnapshotId: snapshotId,
    AvailabilityZone: az,
    Size: like.size,
    VolumeType: like.volumeType ?? undefined,
    Iops: provisioned ? (like.iops ?? undefined) : undefined,
    Throughput: like.volumeType === 'gp3' ? (like.throughput ?? undefined) : undefined,
    ...tagSpecParams(['volume'], tags),
  })
  return volumeOf(answer)
}

export async function deleteVolume(ec2: Ec2, volumeId: string) {
  await ec2.write('DeleteVolume', { VolumeId: volumeId })
}

export async function deleteInterface(ec2: Ec2, eniId: string) {
  await ec2.write('DeleteNetworkInterface', { NetworkInterfaceId: eniId })
}

export async function setSourceDestCheck(ec2: Ec2, eniId: string, on: boolean) {
  await ec2.write('ModifyNetworkInterfaceAttribute', {
    NetworkInterfaceId: eniId,
    'SourceDestCheck.Value': on,
  })
}
