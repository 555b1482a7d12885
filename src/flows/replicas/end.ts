/**
 * Ending a replica someone decided to end (a moot one, a standby no longer wanted, a DELETE). Without
 * an instance it is `terminated` at once. With one it is `terminating`: EC2 runs and bills the instance
 * until its end is known, and the instance that runs the workload is told to terminate it
 * (`terminate_replica`, whose completion, or the agent's report, makes it `terminated`:
 * termination-outcome.ts). When nobody can be told (a 4.0.0 agent has no command that ends an
 * instance), the client is told to terminate it in EC2 and mark it so on the Replicas page.
 * Its changes go through store.ts (`statusUpdate`) and flows/notifications.ts.
 */
import type { Database } from '../../db/client'
import { type Agent, type Replica } from '../../db/schema'
import type { Env } from '../../env'
import { tellReplicaTermination } from './commands'
import { replicaEndStatus, type ReplicaStatus } from './states'
import { lateLaunchUpdate, statusUpdate } from './store'
import { notifyClient } from '../notifications'
import type { Refusal } from '../refusal'

export interface EndedReplica {
  ok: true
  status: ReplicaStatus
  /** The `terminate_replica` queued for its instance, if any. */
  commandId: string | null
  /** False when it had ended already (nothing written). */
  changed: boolean
}

/**
 * Ends `replica` at `now`; `reason` goes on its row, `primaryInstanceId` (the agent's instance by
 * default; after a promotion, the promoted one) terminates its instance. A state that cannot end so (a
 * promoted replica, the primary now) is refused.
 */
export async function endReplica(
  env: Env,
  db: Database,
  agent: Agent,
  replica: Replica,
  opts: { reason: string | null; primaryInstanceId?: string | null },
  now: number,
): Promise<EndedReplica | Refusal> {
  if (replica.status === 'terminating' || replica.status === 'terminated')
    return { ok: true, status: replica.status, commandId: null, changed: false }
  // A failed replica's launch did not run: nothing to wait for.
  const status = replica.status === 'failed' ? 'terminated' : replicaEndStatus(replica)
  const move = statusUpdate(db, replica, status, { errorMessage: opts.reason }, now)
  if (!move.ok) return move
  if (!move.update) return { ok: true, status: replica.status, commandId: null, changed: false }
  await move.update
  if (status === 'terminated') return { ok: true, status, commandId: null, changed: true }
  const commandId = await tellTermination(env, db, agent, replica, opts, now)
  return { ok: true, status, commandId, changed: true }
}

/**
 * The instance a replica's launch reports after the replica was ended without one (its create_replica
 * was already running): EC2 runs and bills it, so the replica records it, is `terminating`, and the
 * workload's instance is told to end it, as for any replica ended with an instance. Null when the
 * replica is no such ended one.
 */
export async function endLateLaunch(
  env: Env,
  db: Database,
  agent: Agent,
  replica: Replica,
  launch: { instanceId: string; mode?: 'spot' | 'ondemand' | null },
  now: number,
): Promise<EndedReplica | null> {
  const update = lateLaunchUpdate(db, replica, launch, now)
  if (!update) return null
  await update
  const launched = { ...replica, instanceId: launch.instanceId }
  const commandId = await tellTermination(env, db, agent, launched, { reason: replica.errorMessage }, now)
  return { ok: true, status: 'terminating', commandId, changed: true }
}

/** Queues `terminate_replica` for the replica's instance, or tells the client when nobody can run it. */
async function tellTermination(
  env: Env,
  db: Database,
  agent: Agent,
  replica: Replica,
  opts: { reason: string | null; primaryInstanceId?: string | null },
  now: number,
): Promise<string | null> {
  const commandId = await tellReplicaTermination(
    env,
    agent,
    replica,
    opts.primaryInstanceId ?? agent.instanceId,
  )
  if (!commandId) {
    await notifyClient(db, {
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'replica',
      severity: 'warning',
      message:
        `${agent.logicalAgentId}: replica ${replica.id} is ending${opts.reason ? ` (${opts.reason})` : ''}, but its agent ` +
        `${agent.agentVersion ?? 'unknown'} cannot terminate ${replica.instanceId}: terminate it in EC2, then mark it ` +
        `terminated on the Replicas page (it is billed until then)`,
      createdAt: now,
    })
  }
  return commandId
}
