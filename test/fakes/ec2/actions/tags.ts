/**
 * CreateTags and DescribeTags over every taggable resource (instances, images, snapshots, subnets,
 * addresses, volumes, network interfaces).
 */
import type { ActionHandler } from '../action'
import { Ec2Error, notFound } from '../errors'
import type { Ec2State, Tags } from '../model'
import { filters, list, matchesAll, paginate, readTags } from '../query'
import { RETURN_TRUE, itemSet, leaf } from '../xml'
import { interfaceNotFound } from '../interfaces'
import { volumeNotFound } from '../volumes'

/** The tag map of any taggable resource, or the NotFound error EC2 gives for its kind. */
function tagsOf(state: Ec2State, id: string): Tags {
  const found =
    state.instances.get(id)?.tags ??
    state.images.get(id)?.tags ??
    state.snapshots.get(id)?.tags ??
    state.subnets.get(id)?.tags ??
    state.addresses.get(id)?.tags ??
    state.volumes.get(id)?.tags ??
    state.networkInterfaces.get(id)?.tags
  if (found) return found
  if (id.startsWith('i-')) throw notFound('InvalidInstanceID.NotFound', 'instance', id)
  if (id.startsWith('ami-'))
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`)
  if (id.startsWith('snap-'))
    throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`)
  if (id.startsWith('vol-')) throw volumeNotFound(id)
  if (id.startsWith('eni-')) throw interfaceNotFound(id)
  throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`)
}

export const createTags: ActionHandler = ({ state, params }) => {
  const ids = list(params, 'ResourceId')
  if (ids.length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter ResourceId')
  const tags = readTags(params, 'Tag')
  if (Object.keys(tags).length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter Tag')
  const targets = ids.map((id) => tagsOf(state, id))
  for (const target of targets) Object.assign(target, tags)
  return RETURN_TRUE
}

/** Every taggable resource with its EC2 resource type. */
function taggable(state: Ec2State): Array<{ id: string; type: string; tags: Tags }> {
  return [
    ...[...state.instances.values()].map((i) => ({ id: i.instanceId, type: 'instance', tags: i.tags })),
    ...[...state.images.values()].map((i) => ({ id: i.imageId, type: 'image', tags: i.tags })),
    ...[...state.snapshots.values()].map((s) => ({ id: s.snapshotId, type: 'snapshot', tags: s.tags })),
    ...[...state.subnets.values()].map((s) => ({ id: s.subnetId, type: 'subnet', tags: s.tags })),
    ...[...state.addresses.values()].map((a) => ({ id: a.allocationId, type: 'elastic-ip', tags: a.tags })),
    ...[...state.volumes.values()].map((v) => ({ id: v.volumeId, type: 'volume', tags: v.tags })),
    ...[...state.networkInterfaces.values()].map((n) => ({
      id: n.networkInterfaceId,
      type: 'network-interface',
      tags: n.tags,
    })),
  ]
}

/** One item per tag of every resource matching the filters (`resource-id`, `resource-type`, `key`, `value`). */
export const describeTags: ActionHandler = ({ state, params }) => {
  const wanted = filters(params)
  const rows = taggable(state).flatMap((r) =>
    Object.entries(r.tags).map(([key, value]) => ({ ...r, key, value })),
  )
  const matching = rows.filter((row) =>
    matchesAll(wanted, (name) => {
      if (name === 'resource-id') return [row.id]
      if (name === 'resource-type') return [row.type]
      if (name === 'key') return [row.key]
      if (name === 'value') return [row.value]
      return undefined
    }),
  )
  const { page, nextToken } = paginate(params, matching, 5, 1000)
  return (
    itemSet(
      'tagSet',
      page,
      (t) =>
        leaf('resourceId', t.id) + leaf('resourceType', t.type) + leaf('key', t.key) + leaf('value', t.value),
    ) + leaf('nextToken', nextToken)
  )
}
