/**
 * Data volumes travel with images as on EC2: CreateImage snapshots every data volume attached to the
 * instance unless the request maps its device to `NoDevice`, and every launch of that image recreates
 * them from those snapshots (unless the launch maps the device to `NoDevice` or to its own volume). A
 * stateful switch that wants an image of the root volume alone must say so, or its new instance comes up
 * with stale copies at the devices it wants to attach the live volumes to.
 */
import type { Ec2State, Image, ImageDataDevice, Tags } from './model'
import { indexes, required, type Params } from './query'
import { snapshotVolume } from './snapshots'
import { volumesOf, type LaunchVolume } from './volumes'

/** Devices a CreateImage or RunInstances request maps to `NoDevice`. */
export function noDevices(params: Params): Set<string> {
  return new Set(
    indexes(params, 'BlockDeviceMapping')
      .filter((n) => params.has(`BlockDeviceMapping.${n}.NoDevice`))
      .map((n) => required(params, `BlockDeviceMapping.${n}.DeviceName`)),
  )
}

/** CreateImage: a snapshot (content frozen now) of each attached data volume not excluded. */
export function snapshotDataDevices(
  state: Ec2State,
  instanceId: string,
  imageId: string,
  excluded: ReadonlySet<string>,
  tags?: Tags,
): ImageDataDevice[] {
  return volumesOf(state, instanceId)
    .filter((v) => v.attachment!.state === 'attached' && !excluded.has(v.attachment!.device))
    .map((v) => ({
      device: v.attachment!.device,
      size: v.size,
      volumeType: v.volumeType,
      deleteOnTermination: v.attachment!.deleteOnTermination,
      snapshotId: snapshotVolume(state, v, {
        description: `Created by CreateImage(${instanceId}) for ${imageId}`,
        tags,
      }).snapshotId,
    }))
}

/** A launch's data volumes: the image's devices (with their frozen content) unless excluded or remapped, then its own. */
export function withImageDevices(
  state: Ec2State,
  image: Image,
  requested: readonly LaunchVolume[],
  excluded: ReadonlySet<string>,
): LaunchVolume[] {
  const own = new Set(requested.map((m) => m.device))
  const inherited = (image.dataDevices ?? [])
    .filter((d) => !excluded.has(d.device) && !own.has(d.device))
    .map((d) => ({ ...d, content: state.snapshots.get(d.snapshotId)?.content }))
  return [...inherited, ...requested]
}
