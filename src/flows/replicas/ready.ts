/**
 * A replica became ready: the client is told once per replica (`replica_ready`, its id derived from the
 * replica's, so every later `ready` report of it adds nothing).
 * Its write of `notifications` is flows/notifications.ts's.
 */
import type { Database } from '../../db/client'
import type { Agent, Replica } from '../../db/schema'
import { notifyClientOnce } from '../notifications'

/** The notification's id: one per replica. */
export function replicaReadyNotificationId(replicaId: string): string {
  return `ntf_replica_ready_${replicaId}`
}

/** Tells the client that `replica` (read as `ready`) is ready to take over, once. */
export function notifyReplicaReady(db: Database, agent: Agent, replica: Replica, now: number) {
  const where = replica.mode === 'ondemand' ? `on-demand in ${replica.az}` : replica.poolId
  return notifyClientOnce(db, replicaReadyNotificationId(replica.id), {
    clientId: agent.clientId,
    agentId: agent.id,
    kind: 'replica_ready',
    severity: 'success',
    message: `${agent.logicalAgentId}: ${replica.replicaType} replica ${replica.instanceId ?? replica.id} is ready in ${where}: an interruption is taken over by it`,
    createdAt: replica.readyAt ?? now,
  })
}
