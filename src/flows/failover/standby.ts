/**
 * Manual replica mode: keep exactly one standby replica in a pool other than the primary's. Created
 * when the mode turns on, replaced at once after a promotion and STANDBY_RETRY_MS after a failure (so a
 * pool that keeps failing causes no burst), ended through commands when the
 * mode turns off. Run after a settings change, after a failover and by the 5-minute cron.
 */
import { and, eq, gt } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents, replicas, type Agent, type Replica } from '../../db/schema'
import type { Env } from '../../env'
import { followAgent } from '../ledger/follow'
import { log } from '../../log'
import { tellReplicaLaunch } from '../replicas/commands'
import { endReplica } from '../replicas/end'
import { requestReplica } from '../replicas/manual'
import { sweepReplicas } from '../replicas/moot'
import { currentPoolOf } from '../replicas/placement'
import { replaceFailedReplica, settleOutstandingNotice } from '../replicas/replacement'
import { MAX_ACTIVE_REPLICAS } from '../replicas/states'
import { activeReplicas } from '../replicas/store'

export const STANDBY_RETRY_MS = 10 * 60_000

export type StandbyOutcome = 'none' | 'kept' | 'created' | 'waiting' | 'ended'

/** A standby no longer wanted (active: never refused): `terminating` until its instance ends (end.ts). */
async function end(env: Env, db: Database, agent: Agent, replica: Replica, now: number) {
  await endReplica(env, db, agent, replica, { reason: null }, now)
}

/**
 * Brings the agent's replicas in line: moot and stale ones end (an outstanding notice's replacement
 * is retried or its failure recorded), then the standby follows the mode. `agent` must be the stored
 * row after any change.
 */
export async function maintainStandby(
  env: Env,
  db: Database,
  agent: Agent,
  now: number,
): Promise<StandbyOutcome> {
  const expired = await sweepReplicas(env, db, agent, now)
  if (expired.length > 0) await replaceFailedReplica(env, db, agent, now)
  await settleOutstandingNotice(env, db, agent, now)
  const active = await activeReplicas(db, agent)
  const manual = active.filter((r) => r.replicaType === 'manual')
  const wanted =
    agent.manualReplicaEnabled && agent.enabled && agent.status !== 'disabled' && agent.status !== 'deleted'
  if (!wanted) {
    for (const r of manual) await end(env, db, agent, r, now)
    return manual.length > 0 ? 'ended' : 'none'
  }
  const currentPoolId = await currentPoolOf(db, agent)
  const [standby, ...extra] = manual.filter((r) => r.poolId !== currentPoolId)
  // A standby in the primary's own pool protects nothing; more than one is a burst.
  for (const r of [...extra, ...manual.filter((m) => m.poolId === currentPoolId)])
    await end(env, db, agent, r, now)
  if (standby) return 'kept'
  const [failed] = await db
    .select({ id: replicas.id })
    .from(replicas)
    .where(
      and(
        eq(replicas.agentId, agent.id),
        eq(replicas.clientId, agent.clientId),
        eq(replicas.replicaType, 'manual'),
        eq(replicas.status, 'failed'),
        gt(replicas.updatedAt, now - STANDBY_RETRY_MS),
      ),
    )
    .limit(1)
  const others = active.length - manual.length
  if (failed || others >= MAX_ACTIVE_REPLICAS) return 'waiting'
  const requested = await requestReplica(
    db,
    agent,
    { replicaType: 'manual', instanceId: null, parentInstanceId: agent.instanceId, requestedStatus: null },
    now,
  )
  if (!requested.ok) {
    // No freshly priced pool to place it in yet: the next run tries again.
    if (requested.code === 'CONFLICT') return 'waiting'
    throw new Error(`standby of ${agent.id} refused: ${requested.message}`)
  }
  await tellReplicaLaunch(env, agent, requested.replica)
  return 'created'
}

/** After a failover: the ledger follows the promotion and manual mode gets a new standby. Errors are logged. */
export async function followFailover(
  env: Env,
  db: Database,
  clientId: string,
  agentId: string,
  now: number,
): Promise<void> {
  await followAgent(db, clientId, agentId, now)
  try {
    const [agent] = await db
      .select()
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.clientId, clientId)))
      .limit(1)
    if (agent) await maintainStandby(env, db, agent, now)
  } catch (err) {
    log.error({ job: 'standby', agent_id: agentId, message: (err as Error).message })
  }
}
