/** A replica as the agent API shows it (the installed agent reads the top-level `pool_id` and `az`). */
import type { Replica } from '../../db/schema'
import { poolName } from '../../prices/pool-id'
import { isLegacyAgent } from '../../protocol'
import { isActiveReplica, type ReplicaStatus } from './states'

/** The id shown before the agent has launched the instance and reported its EC2 id. */
export function placeholderInstanceId(replica: Pick<Replica, 'id'>): string {
  return `pending-${replica.id}`
}

export function poolView(replica: Pick<Replica, 'poolId' | 'instanceType' | 'region' | 'az'>) {
  return {
    id: replica.poolId,
    name: poolName(replica.instanceType, replica.az),
    instance_type: replica.instanceType,
    region: replica.region,
    az: replica.az,
  }
}

/**
 * The status an agent is shown: installed (4.x, 3.x) agents know no `terminating`, and to them a
 * replica being terminated is over (they never act on an ended one).
 */
export function statusForAgent(status: ReplicaStatus, agentVersion: string | null): ReplicaStatus {
  return status === 'terminating' && isLegacyAgent(agentVersion) ? 'terminated' : status
}

/**
 * The list item of `GET replicas` for an agent of `agentVersion`; cost runs from launch (or creation)
 * to termination or `now`.
 */
export function replicaView(replica: Replica, now: number, agentVersion: string | null) {
  const started = replica.launchedAt ?? replica.createdAt
  const ended = replica.terminatedAt ?? replica.promotedAt ?? now
  const hours = Math.max(0, ended - started) / 3_600_000
  return {
    id: replica.id,
    instance_id: replica.instanceId ?? placeholderInstanceId(replica),
    type: replica.replicaType,
    mode: replica.mode,
    status: statusForAgent(replica.status, agentVersion),
    sync_status: replica.syncStatus,
    sync_latency_ms: replica.syncLatencyMs,
    state_transfer_progress: replica.stateTransferProgress,
    pool_id: replica.poolId,
    az: replica.az,
    parent_instance_id: replica.parentInstanceId,
    pool: poolView(replica),
    cost: {
      hourly: replica.hourlyCost,
      total: replica.hourlyCost === null ? null : round6(replica.hourlyCost * hours),
    },
    created_at: iso(replica.createdAt),
    launched_at: iso(replica.launchedAt),
    ready_at: iso(replica.readyAt),
    promoted_at: iso(replica.promotedAt),
    terminated_at: iso(replica.terminatedAt),
    error_message: replica.errorMessage,
    is_active: isActiveReplica(replica.status),
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6
}
