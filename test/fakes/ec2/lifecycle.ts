/**
 * The state machine: instances pending → running (status initializing → ok) → shutting-down → terminated,
 * images (and their snapshots) pending → available, data volumes, their attachments and snapshots
 * (volumes.ts, snapshots.ts). `tick` follows the clock; `advance` steps regardless.
 */
import { releaseInterfaces } from './interfaces'
import type { Ec2State, Instance, InstanceStateName } from './model'
import { advanceSnapshots, tickSnapshots } from './snapshots'
import { advanceVolumes, releaseVolumes, tickVolumes } from './volumes'

/** Applies every transition due by `state.clock.now()`, chaining them (a long jump may run several). */
export function tick(state: Ec2State): void {
  const now = state.clock.now()
  const d = state.durations
  for (const instance of state.instances.values()) {
    if (instance.terminateAt !== undefined && instance.terminateAt <= now) {
      const at = instance.terminateAt
      instance.terminateAt = undefined
      beginTermination(state, instance, at, {
        code: 'Server.SpotInstanceTermination',
        message: 'Server.SpotInstanceTermination: Spot instance termination',
      })
    }
    if (instance.state === 'pending' && instance.stateSince + d.pendingMs <= now) {
      setState(state, instance, 'running', instance.stateSince + d.pendingMs)
      instance.status = 'initializing'
    }
    if (
      instance.state === 'running' &&
      instance.status === 'initializing' &&
      instance.stateSince + d.statusOkMs <= now
    ) {
      instance.status = 'ok'
    }
    if (instance.state === 'shutting-down' && instance.stateSince + d.shuttingDownMs <= now) {
      setState(state, instance, 'terminated', instance.stateSince + d.shuttingDownMs)
    }
  }
  for (const image of state.images.values()) {
    if (image.state === 'pending' && image.createdAt + d.imageMs <= now) completeImage(state, image.imageId)
  }
  tickVolumes(state)
  tickSnapshots(state)
}

/**
 * Moves one resource (or every resource) one step now, ignoring the clock. Returns whether anything moved.
 */
export function advance(state: Ec2State, id?: string): boolean {
  const now = state.clock.now()
  let moved = false
  for (const instance of state.instances.values()) {
    if (id !== undefined && instance.instanceId !== id) continue
    if (instance.state === 'pending') {
      setState(state, instance, 'running', now)
      instance.status = 'initializing'
    } else if (instance.state === 'running' && instance.status === 'initializing') instance.status = 'ok'
    else if (instance.state === 'shutting-down') setState(state, instance, 'terminated', now)
    else continue
    moved = true
  }
  for (const image of state.images.values()) {
    if (id !== undefined && image.imageId !== id) continue
    if (image.state !== 'pending') continue
    completeImage(state, image.imageId)
    moved = true
  }
  if (advanceVolumes(state, id)) moved = true
  if (advanceSnapshots(state, id)) moved = true
  return moved
}

/** Advances everything until nothing moves: all launches running and OK, terminations done, images available. */
export function settle(state: Ec2State): void {
  while (advance(state)) {
    // each pass moves every resource one step
  }
}

/** Starts a termination (user call or AWS reclaim); returns the state it had before. */
export function beginTermination(
  state: Ec2State,
  instance: Instance,
  at = state.clock.now(),
  reason = {
    code: 'Client.UserInitiatedShutdown',
    message: 'Client.UserInitiatedShutdown: User initiated shutdown',
  },
): InstanceStateName {
  const previous = instance.state
  if (previous === 'terminated' || previous === 'shutting-down') return previous
  for (const address of state.addresses.values()) {
    if (address.instanceId === instance.instanceId) {
      address.instanceId = undefined
      address.associationId = undefined
    }
  }
  instance.stateReason = reason
  instance.status = 'not-applicable'
  instance.terminateAt = undefined
  setState(state, instance, previous === 'stopped' ? 'terminated' : 'shutting-down', at)
  return previous
}

function setState(state: Ec2State, instance: Instance, next: InstanceStateName, at: number): void {
  instance.state = next
  instance.stateSince = at
  instance.stateLog.push({ state: next, at })
  if (next !== 'running') instance.status = 'not-applicable'
  if (next === 'terminated') {
    // EC2 frees them once the instance is gone: DeleteOnTermination deletes, the rest become available.
    releaseVolumes(state, instance)
    releaseInterfaces(state, instance)
  }
}

function completeImage(state: Ec2State, imageId: string): void {
  const image = state.images.get(imageId)
  if (!image) return
  image.state = 'available'
  const snapshot = image.snapshotId ? state.snapshots.get(image.snapshotId) : undefined
  if (snapshot) snapshot.state = 'completed'
  // Its data devices' snapshots are part of it: an available image launches with them.
  for (const device of image.dataDevices ?? []) {
    const data = state.snapshots.get(device.snapshotId)
    if (data?.state === 'pending') {
      data.state = 'completed'
      data.completedAt = state.clock.now()
    }
  }
}
