/**
 * What follows a `terminate_replica` command's end. The replica is `terminating` from the decision: EC2
 * runs (and bills) its instance until that command ends it. Completed, the replica is `terminated` then
 * (unless its agent's own report came first). Ended without terminating anything (refused by an agent
 * that stepped down since it claimed it, failed, its claimer gone, or never claimed), it is handed once
 * to the instance that runs the workload now; when that one fails too, a notification names the
 * instance to end by hand, and the replica stays `terminating`: EC2 may still run it. Refused because
 * the instance is not tagged as the replica (a token holder recorded someone else's instance), the
 * replica is `failed` with that reason, not handed over (no agent of ours owns it), and notified.
 * Reads `agents`; the end goes through store.ts (`statusUpdate`), the notification through
 * flows/notifications.ts.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents, replicas } from '../../db/schema'
import type { Env } from '../../env'
import { endedCommand, isRefusedAsNotOwned, type EndedCommand } from '../ended-command'
import { log } from '../../log'
import { followAgent } from '../ledger/follow'
import type { QueuedCommand } from '../../session/types'
import { tellReplicaTermination } from './commands'
import { refusedReplicaUpdate, statusUpdate } from './store'
import { notifyClient } from '../notifications'

/** A `terminate_replica` command that ended, with the replica it was for. */
export type EndedTermination = EndedCommand & { replicaId: string }

/** The command, when it is a `terminate_replica` that ended; else null. */
export function endedTermination(c: QueuedCommand): EndedTermination | null {
  const replicaId = c.payload?.replica_id
  if (c.commandType !== 'terminate_replica' || typeof replicaId !== 'string') return null
  const ended = endedCommand(c)
  return ended ? { ...ended, replicaId } : null
}

/** Ends the replica, hands the termination to the workload's instance, or notifies; errors are logged. */
export async function followReplicaTermination(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  ended: EndedTermination,
): Promise<void> {
  try {
    await follow(env, db, ref, ended)
  } catch (err) {
    log.error({
      job: 'replica-termination-outcome',
      agent_id: ref.agentId,
      command_id: ended.commandId,
      message: (err as Error).message,
    })
  }
}

async function follow(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  ended: EndedTermination,
): Promise<void> {
  if (ended.status === 'cancelled') return // the agent was deleted
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, ref.agentId), eq(agents.clientId, ref.clientId)))
    .limit(1)
  if (!agent || agent.status === 'deleted') return
  const [replica] = await db
    .select()
    .from(replicas)
    .where(and(eq(replicas.id, ended.replicaId), eq(replicas.agentId, agent.id)))
    .limit(1)
  if (!replica?.instanceId || replica.status !== 'terminating') return
  if (ended.status === 'completed') {
    // A terminating replica may always become terminated.
    const move = statusUpdate(db, replica, 'terminated', {}, ended.finishedAt)
    if (move.ok && move.update) await move.update
    return
  }
  if (isRefusedAsNotOwned(ended)) {
    // Not ours: EC2 runs that instance for someone else, and any other agent of ours would refuse too.
    const reason = `refused: not tagged as this agent's replica (${ended.message})`
    await db.batch([
      refusedReplicaUpdate(db, replica, 'failed', reason, ended.finishedAt),
      notifyClient(db, {
        clientId: agent.clientId,
        agentId: agent.id,
        kind: 'replica_failed',
        severity: 'error',
        message: `${agent.logicalAgentId}: the agent refused to terminate ${replica.instanceId}, recorded as replica ${replica.id}: it is not tagged as that replica (${ended.message}); the record is no longer counted as a replica`,
        createdAt: ended.finishedAt,
      }),
    ])
    await followAgent(db, agent.clientId, agent.id, ended.finishedAt)
    return
  }
  const primary = agent.instanceId
  const triedThere = ended.instanceId === primary || ended.claimedBy === primary
  if (primary && primary !== replica.instanceId && !triedThere) {
    if (await tellReplicaTermination(env, agent, replica, primary)) return
  }
  const reason = ended.status === 'expired' ? 'nobody claimed it' : (ended.message ?? 'failed')
  await notifyClient(db, {
    clientId: agent.clientId,
    agentId: agent.id,
    kind: 'replica_failed',
    severity: 'error',
    message: `${agent.logicalAgentId}: replica ${replica.id} was being terminated, but its instance ${replica.instanceId} may still run (termination command ${ended.status}: ${reason}): terminate it in EC2`,
    createdAt: ended.finishedAt,
  })
}
