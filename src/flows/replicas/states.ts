/**
 * Replica states: `launching → syncing → ready → promoted`, or `failed` / `terminated` from any live
 * state. A replica with an instance that the control plane decides to end is `terminating` until its
 * end is known (the agent reports it terminated, its `terminate_replica` completes, or the client
 * says it terminated it in EC2): EC2 runs and bills it until then. A re-sync (`ready → syncing`) is
 * allowed; a `syncing` replica is promoted only by the control plane (an interruption), never by a
 * status report. Pure.
 */
import type { REPLICA_STATUSES } from '../../db/schema'

export type ReplicaStatus = (typeof REPLICA_STATUSES)[number]

/** States that count against the limit of active replicas. */
export const ACTIVE_REPLICA_STATUSES = [
  'launching',
  'syncing',
  'ready',
] as const satisfies readonly ReplicaStatus[]

/** At most this many active replicas per agent, manual and emergency together. */
export const MAX_ACTIVE_REPLICAS = 2

export function isActiveReplica(status: ReplicaStatus): boolean {
  return (ACTIVE_REPLICA_STATUSES as readonly ReplicaStatus[]).includes(status)
}

/** States in which EC2 runs (and bills) the replica's instance, if it has one: the ledger counts it. */
export const BILLED_REPLICA_STATUSES: readonly ReplicaStatus[] = [...ACTIVE_REPLICA_STATUSES, 'terminating']

/** The status a live replica ends in when it is decided: `terminating` while it has an instance. */
export function replicaEndStatus(replica: { instanceId: string | null }): 'terminating' | 'terminated' {
  return replica.instanceId ? 'terminating' : 'terminated'
}

/**
 * `late`: a promoted replica's launch progress (`syncing`, `ready`) arriving after its promotion (it is
 * promoted the moment its instance id arrives): its facts are kept, its state stays `promoted`.
 */
export type Move =
  { kind: 'same' } | { kind: 'move' } | { kind: 'late' } | { kind: 'refused'; reason: string }

/** Whether a replica may move from one state to another; the same state is an idempotent no-op. */
export function replicaMove(from: ReplicaStatus, to: ReplicaStatus): Move {
  if (from === to) return { kind: 'same' }
  switch (from) {
    case 'launching':
      return to === 'promoted' ? refused(from, to) : { kind: 'move' }
    case 'syncing':
      return to === 'launching' || to === 'promoted' ? refused(from, to) : { kind: 'move' }
    case 'ready':
      return to === 'launching' ? refused(from, to) : { kind: 'move' }
    case 'failed':
    case 'terminating':
      return to === 'terminated' ? { kind: 'move' } : refused(from, to)
    case 'promoted':
      return to === 'syncing' || to === 'ready' ? { kind: 'late' } : refused(from, to)
    case 'terminated':
      return refused(from, to)
    default: {
      const never: never = from
      return never
    }
  }
}

function refused(from: ReplicaStatus, to: ReplicaStatus): Move {
  return { kind: 'refused', reason: `a ${from} replica can't become ${to}` }
}
