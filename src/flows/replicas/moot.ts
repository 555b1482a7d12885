/**
 * Replicas that no longer protect anything: a `launching` record nobody launched (an installed
 * 4.0.0 agent asks for one on every notice, before it knows whether another replica answers it), or
 * any live replica in the pool the primary now runs in. Left alone, the 4.0.0 poller would launch such
 * a record later, in its new primary's own pool and with a parent that is no longer its host. They
 * end with the reason (end.ts: those with an instance are `terminating` until `terminate_replica`
 * ends them). An agent that has no `terminate_replica` (4.0.0) cannot end an instance: its moot
 * replica stays live, as EC2 runs and bills it, and the client is told to terminate it in EC2
 * (keptMessage).
 */
import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm'
import { understands } from '../tell'
import type { Database } from '../../db/client'
import { replicas, type Agent, type Replica } from '../../db/schema'
import type { Env } from '../../env'
import { endReplica } from './end'
import { currentPoolOf } from './placement'
import { ACTIVE_REPLICA_STATUSES } from './states'
import { notifyClient } from '../notifications'
import { failReplicas, setReplicaError } from './store'

/** Unclaimed this long, a `launching` record is stale (a `create_replica` command expires as soon). */
export const LAUNCHING_EXPIRES_MS = 30 * 60_000

/** Why a moot replica the agent cannot terminate stays live (the replica row shows it). */
export function keptMessage(agent: Agent, replica: Replica, reason: string): string {
  return (
    `${reason}; agent ${agent.agentVersion ?? 'unknown'} cannot terminate an instance, so ` +
    `${replica.instanceId} runs on in EC2 (billed) until you terminate it there`
  )
}

/**
 * Ends the agent's moot replicas at `now` (all but `keep`): every `launching` one without an instance
 * when `allLaunching` (a promotion answered the notice they were made for), and every live one in
 * `primaryPoolId`; `primaryInstanceId` (the primary now, after a promotion the replica's instance)
 * terminates their instances (`terminating` until then). One with an instance the agent cannot
 * terminate is kept live and said so (once). Returns those ended.
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
  const candidates = moot.filter((r) => r.id !== opts.keep)
  const canTerminate = understands(agent, 'terminate_replica')
  const ended = candidates.filter((r) => canTerminate || !r.instanceId)
  await keepLive(
    db,
    agent,
    candidates.filter((r) => !ended.includes(r) && !r.errorMessage?.startsWith('moot:')),
    opts.reason,
    now,
  )
  for (const r of ended)
    await endReplica(
      env,
      db,
      agent,
      r,
      { reason: opts.reason, primaryInstanceId: opts.primaryInstanceId },
      now,
    )
  return ended
}

/** Marks moot replicas that the agent cannot terminate, live as they are, and tells the client. */
async function keepLive(db: Database, agent: Agent, kept: Replica[], reason: string, now: number) {
  if (kept.length === 0) return
  const [first, ...rest] = kept.map((r) => setReplicaError(db, r, keptMessage(agent, r, reason), now))
  await db.batch([
    first!,
    ...rest,
    notifyClient(db, {
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'replica',
      severity: 'warning',
      message:
        `${agent.logicalAgentId}: ${kept.map((r) => r.instanceId).join(', ')} no longer protect${kept.length === 1 ? 's' : ''} ` +
        `anything (${reason}), and its agent ${agent.agentVersion ?? 'unknown'} cannot terminate an ` +
        `instance: terminate it in EC2, then mark it terminated on the Replicas page (it is billed until then)`,
      createdAt: now,
    }),
  ])
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
  await failReplicas(db, stale.map((r) => r.id).slice(0, 90), 'expired: never launched', now)
  return stale
}
