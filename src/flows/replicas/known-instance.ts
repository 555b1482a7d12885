/**
 * Whether an instance id offered as a new replica is already something else the agent's client has:
 * the agent's own primary, an instance (not ended) of another of its agents, or a live replica of
 * another agent. Recording it as a replica would let a client token holder have the agent end or
 * promote it (the agent's tag check refuses that too: this is the first step of the same attack,
 * narrowed). Only the client's own records are read: another tenant's instance lives in another AWS
 * account, where the agent cannot act, and answering 409 for it would tell one tenant what another
 * runs. Reads `instances` and `replicas`.
 */
import { and, eq, inArray, ne } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { instances, replicas, type Agent } from '../../db/schema'
import { BILLED_REPLICA_STATUSES } from './states'

/** Why `instanceId` can't become `agent`'s replica; null when its client has no record of it. */
export async function knownElsewhere(db: Database, agent: Agent, instanceId: string): Promise<string | null> {
  if (instanceId === agent.instanceId) return `${instanceId} is this agent's own instance`
  const [[asInstance], [asReplica]] = await db.batch([
    db
      .select({ agentId: instances.agentId })
      .from(instances)
      .where(
        and(
          eq(instances.clientId, agent.clientId),
          eq(instances.instanceId, instanceId),
          ne(instances.status, 'terminated'),
        ),
      )
      .limit(1),
    db
      .select({ agentId: replicas.agentId })
      .from(replicas)
      .where(
        and(
          eq(replicas.instanceId, instanceId),
          inArray(replicas.status, [...BILLED_REPLICA_STATUSES, 'promoted']),
          eq(replicas.clientId, agent.clientId),
          ne(replicas.agentId, agent.id),
        ),
      )
      .limit(1),
  ])
  if (asInstance) return `${instanceId} is already recorded as a workload's instance`
  if (asReplica) return `${instanceId} is already recorded as another agent's replica`
  return null
}
