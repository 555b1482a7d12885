/**
 * CreateVolume, DescribeVolumes, AttachVolume, DetachVolume, DeleteVolume, and ModifyInstanceAttribute's
 * `BlockDeviceMapping` (DeleteOnTermination of an attached volume), over the volumes of ../volumes.ts.
 */
import type { ActionHandler } from '../action'
import { Ec2Error, invalidValue, notFound } from '../errors'
import type { Ec2State, Volume } from '../model'
import {
  filters,
  indexes,
  list,
  matchesAll,
  paginate,
  required,
  tagField,
  tagSpecifications,
  type Params,
} from '../query'
import {
  ROOT_DEVICE,
  addVolume,
  beginAttachment,
  beginDetachment,
  requireVolume,
  volumeAt,
  volumeNotFound,
  type LaunchVolume,
} from '../volumes'
import { RETURN_TRUE, itemSet, leaf, tagSet } from '../xml'

const MAX_GIB = 16_384

/** The fields of a volume CreateVolume answers with (DescribeVolumes adds the attachments). */
function volumeFields(v: Volume): string {
  return [
    leaf('volumeId', v.volumeId),
    leaf('size', v.size),
    leaf('snapshotId', v.snapshotId ?? ''),
    leaf('availabilityZone', v.az),
    leaf('status', v.state),
    leaf('createTime', new Date(v.createdAt).toISOString()),
    leaf('volumeType', v.volumeType),
    leaf('iops', 3000),
    leaf('throughput', 125),
    leaf('encrypted', false),
    leaf('multiAttachEnabled', false),
    tagSet(v.tags),
  ].join('')
}

/** A volume's attachment as AttachVolume, DetachVolume and DescribeVolumes print it. */
function attachmentFields(v: Volume): string {
  const a = v.attachment!
  return [
    leaf('volumeId', v.volumeId),
    leaf('instanceId', a.instanceId),
    leaf('device', a.device),
    leaf('status', a.state),
    leaf('attachTime', new Date(a.attachTime).toISOString()),
    leaf('deleteOnTermination', a.deleteOnTermination),
  ].join('')
}

function sizeOf(params: Params, name: string): number | undefined {
  const raw = params.get(name)
  if (raw === null || raw === '') return undefined
  const size = Number(raw)
  if (!Number.isInteger(size) || size < 1 || size > MAX_GIB)
    throw invalidValue(name, raw, `is invalid. Volume size must be between 1 and ${MAX_GIB} GiB`)
  return size
}

export const createVolume: ActionHandler = ({ state, params }) => {
  const az = required(params, 'AvailabilityZone')
  if (!state.zones.includes(az))
    throw new Ec2Error('InvalidZone.NotFound', `The zone '${az}' does not exist.`)
  const snapshotId = params.get('SnapshotId') || undefined
  const snapshot = snapshotId ? state.snapshots.get(snapshotId) : undefined
  if (snapshotId && !snapshot)
    throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`)
  if (snapshot && snapshot.state !== 'completed')
    throw new Ec2Error('IncorrectState', `Snapshot is in invalid state - ${snapshot.state}`)
  const size = sizeOf(params, 'Size') ?? snapshot?.volumeSize
  if (size === undefined)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter size or snapshotId')
  if (snapshot && size < snapshot.volumeSize) {
    throw invalidValue(
      'size',
      String(size),
      `is invalid. Volume of ${size}GiB is smaller than snapshot '${snapshot.snapshotId}', expect size >= ${snapshot.volumeSize}GiB`,
    )
  }
  const specs = tagSpecifications(params)
  for (const type of specs.keys())
    if (type !== 'volume') throw invalidValue('ResourceType', type, 'is invalid for CreateVolume')
  const volume = addVolume(state, {
    az,
    size,
    snapshotId,
    volumeType: params.get('VolumeType') ?? undefined,
    tags: specs.get('volume'),
    content: snapshot?.content,
  })
  return volumeFields(volume)
}

function volumeField(v: Volume, name: string): string[] | undefined {
  const a = v.attachment
  switch (name) {
    case 'volume-id':
      return [v.volumeId]
    case 'status':
      return [v.state]
    case 'availability-zone':
      return [v.az]
    case 'size':
      return [String(v.size)]
    case 'snapshot-id':
      return v.snapshotId ? [v.snapshotId] : []
    case 'volume-type':
      return [v.volumeType]
    case 'create-time':
      return [new Date(v.createdAt).toISOString()]
    case 'attachment.instance-id':
      return a ? [a.instanceId] : []
    case 'attachment.device':
      return a ? [a.device] : []
    case 'attachment.status':
      return a ? [a.state] : []
    case 'attachment.delete-on-termination':
      return a ? [String(a.deleteOnTermination)] : []
    case 'attachment.attach-time':
      return a ? [new Date(a.attachTime).toISOString()] : []
    default:
      return tagField(v.tags, name)
  }
}

export const describeVolumes: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'VolumeId')
  for (const id of ids) if (!state.volumes.has(id)) throw volumeNotFound(id)
  const wanted = filters(params)
  const matching = [...state.volumes.values()]
    .filter((v) => ids.length === 0 || ids.includes(v.volumeId))
    .filter((v) => matchesAll(wanted, (name) => volumeField(v, name)))
  const { page, nextToken } = paginate(params, matching, 5, 500)
  return (
    itemSet('volumeSet', page, (v) =>
      [volumeFields(v), itemSet('attachmentSet', v.attachment ? [v] : [], attachmentFields)].join(''),
    ) + leaf('nextToken', nextToken)
  )
}

export const attachVolume: ActionHandler = ({ state, params }) => {
  const device = required(params, 'Device')
  const instanceId = required(params, 'InstanceId')
  const volume = requireVolume(state, required(params, 'VolumeId'))
  const instance = state.instances.get(instanceId)
  if (!instance) throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  beginAttachment(state, volume, instance, device)
  return attachmentFields(volume)
}

export const detachVolume: ActionHandler = ({ state, params }) => {
  const volume = requireVolume(state, required(params, 'VolumeId'))
  const instanceId = params.get('InstanceId') || undefined
  if (instanceId && !state.instances.has(instanceId))
    throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  // `Force` is accepted and changes nothing: a detach here never hangs.
  beginDetachment(state, volume, instanceId, params.get('Device') || undefined)
  return attachmentFields(volume)
}

export const deleteVolume: ActionHandler = ({ state, params }) => {
  const volume = requireVolume(state, required(params, 'VolumeId'))
  if (volume.attachment) {
    throw new Ec2Error(
      'VolumeInUse',
      `Volume ${volume.volumeId} is currently attached to ${volume.attachment.instanceId}`,
    )
  }
  if (volume.state !== 'available')
    throw new Ec2Error('IncorrectState', `The volume '${volume.volumeId}' is '${volume.state}'`)
  state.volumes.delete(volume.volumeId)
  return RETURN_TRUE
}

/** Only `BlockDeviceMapping.N.DeviceName` + `.Ebs.DeleteOnTermination` of attached data volumes is modelled. */
export const modifyInstanceAttribute: ActionHandler = ({ state, params }) => {
  const instanceId = required(params, 'InstanceId')
  if (!state.instances.has(instanceId)) throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  const mappings = indexes(params, 'BlockDeviceMapping')
  if (mappings.length === 0)
    throw new Ec2Error(
      'InvalidParameterCombination',
      'No attribute specified (only BlockDeviceMapping is modelled)',
    )
  const changes = mappings.map((n) => {
    const device = required(params, `BlockDeviceMapping.${n}.DeviceName`)
    const raw = required(params, `BlockDeviceMapping.${n}.Ebs.DeleteOnTermination`)
    if (raw !== 'true' && raw !== 'false') throw invalidValue('deleteOnTermination', raw)
    return { volume: volumeAt(state, instanceId, device), deleteOnTermination: raw === 'true' }
  })
  for (const { volume, deleteOnTermination } of changes)
    volume.attachment!.deleteOnTermination = deleteOnTermination
  return RETURN_TRUE
}

/**
 * RunInstances' `BlockDeviceMapping.N` data devices, checked before anything launches: the root device
 * (the image's), `NoDevice` and instance-store (`VirtualName`) mappings are not volumes here.
 */
export function launchMappings(state: Ec2State, params: Params): LaunchVolume[] {
  return indexes(params, 'BlockDeviceMapping').flatMap((n) => {
    const prefix = `BlockDeviceMapping.${n}`
    const device = required(params, `${prefix}.DeviceName`)
    const hasEbs = [...params.keys()].some((k) => k.startsWith(`${prefix}.Ebs.`))
    if (device === ROOT_DEVICE || params.has(`${prefix}.NoDevice`) || !hasEbs) return []
    const snapshotId = params.get(`${prefix}.Ebs.SnapshotId`) || undefined
    const snapshot = snapshotId ? state.snapshots.get(snapshotId) : undefined
    if (snapshotId && !snapshot)
      throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`)
    if (snapshot && snapshot.state !== 'completed')
      throw new Ec2Error('IncorrectState', `Snapshot is in invalid state - ${snapshot.state}`)
    const size = sizeOf(params, `${prefix}.Ebs.VolumeSize`) ?? snapshot?.volumeSize
    if (size === undefined)
      throw new Ec2Error(
        'MissingParameter',
        `The request must contain the parameter ${prefix}.Ebs.VolumeSize`,
      )
    const deleteOnTermination = params.get(`${prefix}.Ebs.DeleteOnTermination`) ?? 'true'
    if (deleteOnTermination !== 'true' && deleteOnTermination !== 'false')
      throw invalidValue('deleteOnTermination', deleteOnTermination)
    return [
      {
        device,
        size,
        snapshotId,
        volumeType: params.get(`${prefix}.Ebs.VolumeType`) ?? undefined,
        content: snapshot?.content,
        // true unless asked otherwise: EC2's default for the volumes a launch creates
        deleteOnTermination: deleteOnTermination === 'true',
      },
    ]
  })
}
