/**
 * Snapshots of data volumes: content frozen at the request, pending → completed after `snapshotMs` by the
 * clock, at most five pending per volume (EC2's limit for gp2/gp3/io1). Adds to `state.snapshots`, which
 * images (actions/images.ts) share: an image's root snapshot follows its image instead.
 */
import { Ec2Error } from './errors'
import type { Ec2State, Snapshot, Tags, Volume } from './model'

/** EC2's limit of pending snapshots of one volume. */
export const MAX_PENDING_SNAPSHOTS = 5

export function snapshotVolume(
  state: Ec2State,
  volume: Volume,
  opts: { description?: string; tags?: Tags } = {},
): Snapshot {
  if (volume.state === 'creating')
    throw new Ec2Error('IncorrectState', `Volume '${volume.volumeId}' is in the 'creating' state.`)
  const pending = [...state.snapshots.values()].filter(
    (s) => s.volumeId === volume.volumeId && s.state === 'pending',
  )
  if (pending.length >= MAX_PENDING_SNAPSHOTS) {
    throw new Ec2Error(
      'ConcurrentSnapshotLimitExceeded',
      'Maximum allowed in-progress snapshots for a single volume exceeded.',
    )
  }
  const now = state.clock.now()
  const snapshot: Snapshot = {
    snapshotId: state.nextId('snap'),
    volumeId: volume.volumeId,
    ownerId: state.accountId,
    state: 'pending',
    startTime: now,
    volumeSize: volume.size,
    description: opts.description ?? '',
    tags: { ...opts.tags },
    completesAt: now + state.durations.snapshotMs,
    content: volume.content.map((r) => ({ ...r })),
  }
  state.snapshots.set(snapshot.snapshotId, snapshot)
  return snapshot
}

function complete(snapshot: Snapshot, at: number): void {
  snapshot.state = 'completed'
  snapshot.completedAt = at
}

/** Completes the volume snapshots due by the clock. */
export function tickSnapshots(state: Ec2State): void {
  const now = state.clock.now()
  for (const s of state.snapshots.values())
    if (s.state === 'pending' && s.completesAt !== undefined && s.completesAt <= now)
      complete(s, s.completesAt)
}

/** Completes one pending volume snapshot (or all) now, ignoring the clock. */
export function advanceSnapshots(state: Ec2State, id?: string): boolean {
  let moved = false
  for (const s of state.snapshots.values()) {
    if ((id !== undefined && s.snapshotId !== id) || s.state !== 'pending' || s.completesAt === undefined)
      continue
    complete(s, state.clock.now())
    moved = true
  }
  return moved
}
