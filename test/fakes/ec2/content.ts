/**
 * What simulated workloads write on their data volumes, held by the fake EC2 itself: the ground truth a
 * checker compares with what agents report. A write lands on the volume attached (and fully attached) at
 * a device of a running instance; snapshots freeze a copy (actions/snapshots.ts), volumes made from a
 * snapshot start from that copy. Not an EC2 action: tests, the fleet and the soak call these directly.
 */
import type { Ec2State, VolumeRecord } from './model'
import { requireVolume, volumesOf } from './volumes'

/** Appends a record to the volume attached at `device` of a running instance; throws when there is none. */
export function workloadWrite(
  state: Ec2State,
  instanceId: string,
  device: string,
  data: string,
): VolumeRecord {
  const instance = state.instances.get(instanceId)
  if (!instance) throw new Error(`workloadWrite: no instance ${instanceId}`)
  if (instance.state !== 'running')
    throw new Error(`workloadWrite: instance ${instanceId} is ${instance.state}, its workload cannot write`)
  const volume = volumesOf(state, instanceId).find((v) => v.attachment!.device === device)
  if (!volume || volume.attachment!.state !== 'attached')
    throw new Error(`workloadWrite: no volume attached at ${device} of ${instanceId}`)
  const last = volume.content.at(-1)
  const record: VolumeRecord = { seq: (last?.seq ?? 0) + 1, at: state.clock.now(), instanceId, data }
  volume.content.push(record)
  return { ...record }
}

/** A copy of what a volume holds, oldest first. */
export function volumeContent(state: Ec2State, volumeId: string): VolumeRecord[] {
  return requireVolume(state, volumeId).content.map((r) => ({ ...r }))
}

/** A copy of what a snapshot froze ([] for an image's root snapshot), oldest first. */
export function snapshotContent(state: Ec2State, snapshotId: string): VolumeRecord[] {
  const snapshot = state.snapshots.get(snapshotId)
  if (!snapshot) throw new Error(`snapshotContent: no snapshot ${snapshotId}`)
  return (snapshot.content ?? []).map((r) => ({ ...r }))
}

export interface WorkloadTickOptions {
  /** The instances whose workloads write (the primaries: a passive replica must not); default every running one */
  instanceIds?: readonly string[]
  /** What each write holds; default `<instance> <device> #<seq>` */
  data?: (instanceId: string, device: string) => string
}

/**
 * One simulated minute of every stateful workload: a record on each fully attached data volume of each
 * running instance chosen. Returns the records written, with the volume each landed on.
 */
export function writeWorkloads(
  state: Ec2State,
  opts: WorkloadTickOptions = {},
): Array<VolumeRecord & { volumeId: string; device: string }> {
  const chosen = opts.instanceIds ? new Set(opts.instanceIds) : undefined
  const written: Array<VolumeRecord & { volumeId: string; device: string }> = []
  for (const volume of state.volumes.values()) {
    const attachment = volume.attachment
    if (attachment?.state !== 'attached') continue
    const instance = state.instances.get(attachment.instanceId)
    if (instance?.state !== 'running' || (chosen && !chosen.has(instance.instanceId))) continue
    const seq = (volume.content.at(-1)?.seq ?? 0) + 1
    const data =
      opts.data?.(instance.instanceId, attachment.device) ??
      `${instance.instanceId} ${attachment.device} #${seq}`
    const record = workloadWrite(state, instance.instanceId, attachment.device, data)
    written.push({ ...record, volumeId: volume.volumeId, device: attachment.device })
  }
  return written
}
