/**
 * What an agent's replica report sets off once stored (PUT with the real instance id, a status, a
 * sync status): a replica reported ready is notified (once); a replica usable while a notice is outstanding is
 * promoted; a failed one is replaced for that notice (or the failure recorded; a capacity error counts
 * against its pool: flows/capacity.ts); a promoted one
 * reporting `ready` dates its switch.
 */
import type { Database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { Env } from '../../env'
import { promoteIfNoticeOutstanding, type NoticePromotion } from './notice-promotion'
import { recordPromotionMoment } from './promotion-outcome'
import { notifyReplicaReady } from './ready'
import { replaceFailedReplica } from './replacement'
import { recordCapacityError, replicaCapacityError } from '../capacity'
import type { ReplicaStatus } from './states'
import { findReplica } from './store'

/** Follows a stored report; the promotion it caused, if any (the ledger must follow it). */
export async function followReplicaReport(
  env: Env,
  db: Database,
  agent: Agent,
  replicaId: string,
  reported: ReplicaStatus,
  now: number,
): Promise<NoticePromotion | null> {
  const replica = await findReplica(db, agent, replicaId)
  if (!replica) return null
  switch (replica.status) {
    case 'ready':
      if (reported === 'ready') await notifyReplicaReady(db, agent, replica, now)
      return promoteIfNoticeOutstanding(env, db, agent, replica, now)
    case 'syncing':
      return promoteIfNoticeOutstanding(env, db, agent, replica, now)
    case 'failed': {
      // Recorded first: the replacement's choice of pool already counts this one's capacity error.
      const capacityError = replicaCapacityError(replica, now)
      if (capacityError)
        await recordCapacityError(db, { clientId: agent.clientId, agentId: agent.id }, capacityError)
      await replaceFailedReplica(env, db, agent, now)
      return null
    }
    case 'promoted':
      if (reported === 'ready') await recordPromotionMoment(db, agent, replica, 'readyAt', now)
      return null
    case 'launching':
    case 'terminating':
    case 'terminated':
      return null
    default: {
      const never: never = replica.status
      return never
    }
  }
}
