/**
 * EBS data volumes, as EC2 runs them: bound to one AZ, attached to one instance at most (no multi-attach),
 * creating → available and attaching → attached, detaching → available by the clock; an instance's
 * termination deletes those with DeleteOnTermination and detaches the rest, which survive. Owns
 * `state.volumes`. Root volumes are not volumes here (they are `disks`).
 */
import { Ec2Error, invalidValue, notFound } from './errors'
import type { Ec2State, Instance, Tags, Volume, VolumeRecord } from './model'

/** Every instance's root device: taken from the start. */
export const ROOT_DEVICE = '/dev/xvda'
const DEVICE_NAME = /^\/dev\/(sd|xvd)[b-z][a-z]?$/

export function volumeNotFound(volumeId: string): Ec2Error {
  return new Ec2Error('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`)
}

export function requireVolume(state: Ec2State, volumeId: string): Volume {
  const volume = state.volumes.get(volumeId)
  if (!volume) throw volumeNotFound(volumeId)
  return volume
}

export interface VolumeSpec {
  az: string
  /** GiB */
  size: number
  snapshotId?: string
  volumeType?: string
  tags?: Tags
  /** What it holds from the start (a snapshot's frozen content), copied */
  content?: readonly VolumeRecord[]
  /** `creating` (CreateVolume) or `available` at once (a launch's mapping, a seed) */
  state?: 'creating' | 'available'
}

export function addVolume(state: Ec2State, spec: VolumeSpec): Volume {
  const volume: Volume = {
    volumeId: state.nextId('vol'),
    size: spec.size,
    az: spec.az,
    snapshotId: spec.snapshotId,
    volumeType: spec.volumeType ?? 'gp3',
    state: spec.state ?? 'creating',
    createdAt: state.clock.now(),
    tags: { ...spec.tags },
    content: (spec.content ?? []).map((r) => ({ ...r })),
  }
  state.volumes.set(volume.volumeId, volume)
  return volume
}

/** The volumes attached (in any attachment state) to an instance. */
export function volumesOf(state: Ec2State, instanceId: string): Volume[] {
  return [...state.volumes.values()].filter((v) => v.attachment?.instanceId === instanceId)
}

/**
 * Starts attaching `volume` at `device` with EC2's checks: one instance per volume, the same AZ, a free
 * device, an available volume, a running or stopped instance. `attached` skips the transition (a
 * launch's own mappings come up with the instance).
 */
export function beginAttachment(
  state: Ec2State,
  volume: Volume,
  instance: Instance,
  device: string,
  opts: { deleteOnTermination?: boolean; attached?: boolean } = {},
): void {
  if (volume.attachment)
    throw new Ec2Error('VolumeInUse', `${volume.volumeId} is already attached to an instance`)
  if (volume.state !== 'available')
    throw new Ec2Error('IncorrectState', `Volume '${volume.volumeId}' is not 'available'.`)
  if (!opts.attached && instance.state !== 'running' && instance.state !== 'stopped')
    throw new Ec2Error('IncorrectState', `Instance '${instance.instanceId}' is not 'running'.`)
  if (volume.az !== instance.az) {
    throw new Ec2Error(
      'InvalidVolume.ZoneMismatch',
      `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`,
    )
  }
  if (!DEVICE_NAME.test(device) && device !== ROOT_DEVICE)
    throw invalidValue('device', device, `is invalid. ${device} is not a valid EBS device name.`)
  if (
    device === ROOT_DEVICE ||
    volumesOf(state, instance.instanceId).some((v) => v.attachment!.device === device)
  ) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
    )
  }
  const now = state.clock.now()
  volume.state = 'in-use'
  volume.attachment = {
    instanceId: instance.instanceId,
    device,
    state: opts.attached ? 'attached' : 'attaching',
    since: now,
    attachTime: now,
    deleteOnTermination: opts.deleteOnTermination ?? false,
  }
}

/** Starts detaching (Force or not: the fake does not model a stuck detach). */
export function beginDetachment(state: Ec2State, volume: Volume, instanceId?: string, device?: string): void {
  const attachment = volume.attachment
  if (!attachment || attachment.state === 'detaching')
    throw new Ec2Error(
      'IncorrectState',
      `Volume '${volume.volumeId}' is in the '${attachment ? 'detaching' : volume.state}' state.`,
    )
  if ((instanceId && attachment.instanceId !== instanceId) || (device && attachment.device !== device)) {
    throw new Ec2Error(
      'InvalidAttachment.NotFound',
      `Volume '${volume.volumeId}' is not attached to '${instanceId ?? attachment.instanceId}' at '${device ?? attachment.device}'`,
    )
  }
  attachment.state = 'detaching'
  attachment.since = state.clock.now()
}

/** Moves one volume one step; `due` says whether a step is due (by the clock, or always when advancing). */
function stepVolume(state: Ec2State, volume: Volume, due: (since: number, ms: number) => boolean): boolean {
  const d = state.durations
  if (volume.state === 'creating' && due(volume.createdAt, d.volumeMs)) {
    volume.state = 'available'
    return true
  }
  const attachment = volume.attachment
  if (attachment?.state === 'attaching' && due(attachment.since, d.attachMs)) {
    attachment.state = 'attached'
    attachment.since = Math.min(attachment.since + d.attachMs, state.clock.now())
    return true
  }
  if (attachment?.state === 'detaching' && due(attachment.since, d.attachMs)) {
    volume.attachment = undefined
    volume.state = 'available'
    return true
  }
  return false
}

/** Applies the volume transitions due by the clock (a long jump may run several). */
export function tickVolumes(state: Ec2State): void {
  const now = state.clock.now()
  for (const volume of state.volumes.values())
    while (stepVolume(state, volume, (since, ms) => since + ms <= now)) {
      // chain: creating → available, attaching → attached
    }
}

/** Moves one volume (or every volume) one step now, ignoring the clock. */
export function advanceVolumes(state: Ec2State, id?: string): boolean {
  let moved = false
  for (const volume of state.volumes.values()) {
    if (id !== undefined && volume.volumeId !== id) continue
    if (stepVolume(state, volume, () => true)) moved = true
  }
  return moved
}

/** What a terminated instance leaves: its DeleteOnTermination volumes deleted, the others available. */
export function releaseVolumes(state: Ec2State, instance: Instance): void {
  for (const volume of volumesOf(state, instance.instanceId)) {
    if (volume.attachment!.deleteOnTermination) state.volumes.delete(volume.volumeId)
    else {
      volume.attachment = undefined
      volume.state = 'available'
    }
  }
}

/** The volume attached at `device` of an instance (any attachment state), or the error EC2 gives. */
export function volumeAt(state: Ec2State, instanceId: string, device: string): Volume {
  const volume = volumesOf(state, instanceId).find((v) => v.attachment!.device === device)
  if (!volume) throw notFound('InvalidParameterValue', `device ${device} of instance`, instanceId)
  return volume
}

/** A data volume a launch creates from its block device mappings (checked by actions/volumes.ts). */
export interface LaunchVolume {
  device: string
  /** GiB */
  size: number
  snapshotId?: string
  volumeType?: string
  /** The snapshot's frozen content, when made from one */
  content?: readonly VolumeRecord[]
  deleteOnTermination: boolean
}

/** Creates a launched instance's data volumes in its AZ, attached from the start, tagged as the launch asked. */
export function attachLaunchVolumes(
  state: Ec2State,
  instance: Instance,
  mappings: readonly LaunchVolume[],
  tags: Tags = {},
): void {
  for (const m of mappings) {
    const volume = addVolume(state, { ...m, az: instance.az, tags, state: 'available' })
    beginAttachment(state, volume, instance, m.device, {
      deleteOnTermination: m.deleteOnTermination,
      attached: true,
    })
  }
}
