/** CreateImage, DescribeImages, DeregisterImage, DescribeSnapshots, DeleteSnapshot. */
import type { ActionHandler } from '../action'
import { Ec2Error, notFound } from '../errors'
import { AMAZON_OWNER_ID, type Ec2State, type Image, type Snapshot } from '../model'
import { bool, filters, list, matchesAll, paginate, required, tagField, tagSpecifications } from '../query'
import { RETURN_TRUE, itemSet, leaf, node, tagSet } from '../xml'
import { instanceTypeSpec } from '../../../../src/engine/instance-types'
import { noDevices, snapshotDataDevices } from '../image-volumes'

const AMI_NAME = /^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/

export const createImage: ActionHandler = ({ state, params }) => {
  const instanceId = required(params, 'InstanceId')
  const name = required(params, 'Name')
  const instance = state.instances.get(instanceId)
  if (!instance) throw notFound('InvalidInstanceID.NotFound', 'instance', instanceId)
  if (instance.state !== 'running' && instance.state !== 'stopped') {
    throw new Ec2Error(
      'IncorrectInstanceState',
      `The instance '${instanceId}' is not in a state from which it can be imaged.`,
    )
  }
  if (!AMI_NAME.test(name))
    throw new Ec2Error(
      'InvalidAMIName.Malformed',
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
    )
  const duplicate = [...state.images.values()].find((i) => i.ownerId === state.accountId && i.name === name)
  if (duplicate)
    throw new Ec2Error(
      'InvalidAMIName.Duplicate',
      `AMI name ${name} is already in use by AMI ${duplicate.imageId}`,
    )
  const specs = tagSpecifications(params)
  const now = state.clock.now()
  const imageId = state.nextId('ami')
  const dataDevices = snapshotDataDevices(
    state,
    instanceId,
    imageId,
    noDevices(params),
    specs.get('snapshot'),
  )
  const source = state.images.get(instance.imageId)
  const snapshot: Snapshot = {
    snapshotId: state.nextId('snap'),
    volumeId: state.nextId('vol'),
    ownerId: state.accountId,
    state: 'pending',
    startTime: now,
    volumeSize: 8,
    description: `Created by CreateImage(${instanceId}) for ${imageId}`,
    tags: specs.get('snapshot') ?? {},
  }
  state.snapshots.set(snapshot.snapshotId, snapshot)
  state.images.set(imageId, {
    imageId,
    name,
    description: params.get('Description') ?? undefined,
    ownerId: state.accountId,
    state: 'pending',
    createdAt: now,
    sourceInstanceId: instanceId,
    snapshotId: snapshot.snapshotId,
    noReboot: bool(params, 'NoReboot'),
    // An image of an instance boots what that instance booted.
    architecture: source?.architecture ?? instanceTypeSpec(instance.instanceType)?.architecture,
    enaSupport: source?.enaSupport,
    bootMode: source?.bootMode,
    tags: specs.get('image') ?? {},
    dataDevices,
  })
  state.disks?.snapshot(instanceId, imageId)
  return leaf('imageId', imageId)
}

function ownerOf(state: Ec2State, owner: string): string {
  if (owner === 'self') return state.accountId
  if (owner === 'amazon') return AMAZON_OWNER_ID
  return owner
}

function imageXml(image: Image): string {
  return [
    leaf('imageId', image.imageId),
    leaf('imageLocation', `${image.ownerId}/${image.name}`),
    leaf('imageState', image.state),
    leaf('imageOwnerId', image.ownerId),
    leaf('creationDate', new Date(image.createdAt).toISOString()),
    leaf('isPublic', image.ownerId === AMAZON_OWNER_ID),
    leaf('architecture', image.architecture ?? 'x86_64'),
    leaf('enaSupport', image.enaSupport ?? true),
    leaf('bootMode', image.bootMode),
    leaf('imageType', 'machine'),
    leaf('name', image.name),
    leaf('description', image.description),
    leaf('rootDeviceType', 'ebs'),
    leaf('rootDeviceName', '/dev/xvda'),
    itemSet(
      'blockDeviceMapping',
      [
        ...(image.snapshotId
          ? [{ device: '/dev/xvda', snapshotId: image.snapshotId, size: 8, deleteOnTermination: true }]
          : []),
        ...(image.dataDevices ?? []),
      ],
      (d) =>
        leaf('deviceName', d.device) +
        node(
          'ebs',
          leaf('snapshotId', d.snapshotId),
          leaf('volumeSize', d.size),
          leaf('deleteOnTermination', d.deleteOnTermination),
          leaf('volumeType', 'gp3'),
          leaf('encrypted', false),
        ),
    ),
    leaf('virtualizationType', 'hvm'),
    leaf('hypervisor', 'xen'),
    tagSet(image.tags),
  ].join('')
}

export const describeImages: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'ImageId')
  for (const id of ids)
    if (!state.images.has(id))
      throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`)
  const owners = list(params, 'Owner').map((o) => ownerOf(state, o))
  const wanted = filters(params)
  const images = [...state.images.values()]
    .filter((i) => ids.length === 0 || ids.includes(i.imageId))
    .filter((i) => owners.length === 0 || owners.includes(i.ownerId))
    .filter((i) => i.ownerId === state.accountId || i.ownerId === AMAZON_OWNER_ID)
    .filter((i) =>
      matchesAll(wanted, (name) => {
        if (name === 'image-id') return [i.imageId]
        if (name === 'name') return [i.name]
        if (name === 'state') return [i.state]
        if (name === 'owner-id') return [i.ownerId]
        if (name === 'block-device-mapping.snapshot-id') return i.snapshotId ? [i.snapshotId] : []
        return tagField(i.tags, name)
      }),
    )
  return itemSet('imagesSet', images, imageXml)
}

export const deregisterImage: ActionHandler = ({ state, params }) => {
  const imageId = required(params, 'ImageId')
  const image = state.images.get(imageId)
  if (!image || image.ownerId !== state.accountId)
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`)
  state.images.delete(imageId)
  return RETURN_TRUE
}

/** A snapshot's fields, as CreateSnapshot answers and DescribeSnapshots lists them. */
export function snapshotXml(s: Snapshot): string {
  return [
    leaf('snapshotId', s.snapshotId),
    leaf('volumeId', s.volumeId),
    leaf('status', s.state),
    leaf('startTime', new Date(s.startTime).toISOString()),
    leaf('completionTime', s.completedAt === undefined ? undefined : new Date(s.completedAt).toISOString()),
    leaf('progress', s.state === 'completed' ? '100%' : '0%'),
    leaf('ownerId', s.ownerId),
    leaf('volumeSize', s.volumeSize),
    leaf('description', s.description),
    leaf('encrypted', false),
    leaf('storageTier', 'standard'),
    tagSet(s.tags),
  ].join('')
}

export const describeSnapshots: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'SnapshotId')
  for (const id of ids)
    if (!state.snapshots.has(id))
      throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`)
  const owners = list(params, 'Owner')
    .concat(list(params, 'OwnerId'))
    .map((o) => ownerOf(state, o))
  const wanted = filters(params)
  const snapshots = [...state.snapshots.values()]
    .filter((s) => ids.length === 0 || ids.includes(s.snapshotId))
    .filter((s) => owners.length === 0 || owners.includes(s.ownerId))
    .filter((s) =>
      matchesAll(wanted, (name) => {
        if (name === 'snapshot-id') return [s.snapshotId]
        if (name === 'status') return [s.state]
        if (name === 'owner-id') return [s.ownerId]
        if (name === 'volume-id') return [s.volumeId]
        if (name === 'description') return [s.description]
        if (name === 'start-time') return [new Date(s.startTime).toISOString()]
        return tagField(s.tags, name)
      }),
    )
  const { page, nextToken } = paginate(params, snapshots, 5, 1000)
  return itemSet('snapshotSet', page, snapshotXml) + leaf('nextToken', nextToken)
}

export const deleteSnapshot: ActionHandler = ({ state, params }) => {
  const snapshotId = required(params, 'SnapshotId')
  if (!state.snapshots.has(snapshotId))
    throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`)
  const user = [...state.images.values()].find(
    (i) => i.snapshotId === snapshotId || i.dataDevices?.some((d) => d.snapshotId === snapshotId),
  )
  if (user)
    throw new Ec2Error(
      'InvalidSnapshot.InUse',
      `The snapshot ${snapshotId} is currently in use by ${user.imageId}`,
    )
  state.snapshots.delete(snapshotId)
  return RETURN_TRUE
}
