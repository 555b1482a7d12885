/** CreateSnapshot of a data volume (DescribeSnapshots and DeleteSnapshot are shared with images: images.ts). */
import type { ActionHandler } from '../action'
import { invalidValue } from '../errors'
import { required, tagSpecifications } from '../query'
import { snapshotVolume } from '../snapshots'
import { requireVolume } from '../volumes'
import { snapshotXml } from './images'

export const createSnapshot: ActionHandler = ({ state, params }) => {
  const volume = requireVolume(state, required(params, 'VolumeId'))
  const specs = tagSpecifications(params)
  for (const type of specs.keys())
    if (type !== 'snapshot') throw invalidValue('ResourceType', type, 'is invalid for CreateSnapshot')
  const snapshot = snapshotVolume(state, volume, {
    description: params.get('Description') ?? undefined,
    tags: specs.get('snapshot'),
  })
  return snapshotXml(snapshot)
}
