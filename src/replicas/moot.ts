/**
 * Replicas that no longer protect anything: a `launching` record nobody launched (an installed
 * 4.0.0 agent asks for one on every notice, before it knows whether another replica answers it), or
 * any live replica in the pool the primary now runs in. Left alone, the 4.0.0 poller would launch such
 * a record later, in its new primary's own pool and with a parent that is no longer its host. They
 * end as `terminated` with the reason (those with an instance through `terminate_replica`).
 */
import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm'
import type { Database } from '../db/client'
import { replicas, type Agent, type Replica } from '../db/schema'
import type { Env } from '../env'
import { tellReplicaTermination } from './commands'
import { currentPoolOf } from './placement'
import { ACTIVE_REPLICA_STATUSES } from './states'

/** Unclaimed this long, a `launching` record is stale (a `create_replica` command expires as soon). */
export const LAUNCHING_EXPIRES_MS = 30 * 60_000

/**
 * Ends the agent's moot replicas at `now` (all but `keep`): every `launching` one without an instance
 * when `allLaunching` (a promotion answered the notice they were made for), and every live one in
 * `primaryPoolId`; `primaryInstanceId` (the primary now, after a promotion the replica's instance)
 * terminates their instances. Returns those ended.
 */
export async function endMootReplicas(
  env: Env,
  db: Database,
  agent: Agent,
  opts: {
    keep: string | null
    primaryPoolId: string | null
    primaryInstanceId: string | null
    allLaunching: boolean
    reason: string
  },
  now: number,
): Promise<Replica[]> {
  const unlaunched = and(eq(replicas.status, 'launching'), isNull(replicas.instanceId))
  // An on-demand replacement names its AZ like a pool: it never competes with spot capacity.
  const inPrimaryPool = opts.primaryPoolId
    ? and(eq(replicas.mode, 'spot'), eq(replicas.poolId, opts.primaryPoolId))
    : undefined
  const which = or(opts.allLaunching ? unlaunched : undefined, inPrimaryPool)
  if (!which) return []
  const moot = await db
    .select()
    .from(replicas)
    .where(
      and(
        eq(replicas.clientId, agent.clientId),
        eq(replicas.agentId, agent.id),
        inArray(replicas.status, [...ACTIVE_REPLICA_STATUSES]),
        which,
      ),
    )
  const ended = moot.filter((r) => r.id !== opts.keep)
  if (ended.length === 0) return []
  await db
    .update(replicas)
    .set({ status: 'terminated', terminatedAt: now, errorMessage: opts.reason, updatedAt: now })
    .where(inArray(replicas.id, ended.map((r) => r.id).slice(0, 90)))
  for (const r of ended) if (r.instanceId) await tellReplicaTermination(env, agent, r, opts.primaryInstanceId)
  return ended
}

/**
 * The periodic sweep: live replicas in the primary's pool end, and `launching` records nobody
 * launched within LAUNCHING_EXPIRES_MS fail (the reason says so). Returns the replicas that failed.
 */
export async function sweepReplicas(env: Env, db: Database, agent: Agent, now: number): Promise<Replica[]> {
  await endMootReplicas(
    env,
    db,
    agent,
    {
      keep: null,
      primaryPoolId: await currentPoolOf(db, agent),
      primaryInstanceId: agent.instanceId,
      allLaunching: false,
      reason: "moot: in the primary's own pool",
    },
    now,
  )
  const stale = await db
    .select()
    .from(replicas)
    .where(
      and(
        eq(replicas.clientId, agent.clientId),
        eq(replicas.agentId, agent.id),
        eq(replicas.status, 'launching'),
        isNull(replicas.instanceId),
        lt(replicas.createdAt, now - LAUNCHING_EXPIRES_MS),
      ),
    )
  if (stale.length === 0) return []
  await db
    .update(replicas)
    .set({ status: 'failed', terminatedAt: now, errorMessage: 'expired: never launched', updatedAt: now })
    .where(inArray(replicas.id, stale.map((r) => r.id).slice(0, 90)))
  return stale
}
