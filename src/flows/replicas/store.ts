/**
 * Replica records of an agent: their reads, and every change of them. The writing functions return
 * their statement, unexecuted: a caller whose change must land with others puts it in its
 * `db.batch([...])` (D1 has no transactions), one alone awaits it.
 * Every query is scoped by the agent, itself already scoped by the authenticated client.
 * Writes: `replicas`.
 */
import { and, desc, eq, inArray, isNotNull, isNull, notInArray, or, type SQL } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { instances, replicas, type Agent, type Replica } from '../../db/schema'
import { refuse, type Refusal } from '../refusal'
import { ACTIVE_REPLICA_STATUSES, replicaMove, type ReplicaStatus } from './states'

const ofAgent = (agent: Agent) => and(eq(replicas.clientId, agent.clientId), eq(replicas.agentId, agent.id))

/** The agent's replica, or undefined (another agent's replica is unknown here). */
export async function findReplica(
  db: Database,
  agent: Agent,
  replicaId: string,
): Promise<Replica | undefined> {
  const [row] = await db
    .select()
    .from(replicas)
    .where(and(ofAgent(agent), eq(replicas.id, replicaId)))
    .limit(1)
  return row
}

export async function activeReplicas(db: Database, agent: Agent): Promise<Replica[]> {
  return db
    .select()
    .from(replicas)
    .where(and(ofAgent(agent), inArray(replicas.status, [...ACTIVE_REPLICA_STATUSES])))
    .orderBy(desc(replicas.createdAt))
}

/**
 * The replicas to list: one status, or all but the ended (and ending) ones unless asked. A replica with a real
 * instance is never listed as `launching` (the 4.0.0 poller launches every such item again), nor one
 * in the primary's own pool (moot since a promotion; the sweep ends it: moot.ts).
 */
export async function listReplicas(
  db: Database,
  agent: Agent,
  filter: { status: ReplicaStatus | null; includeTerminated: boolean },
): Promise<Replica[]> {
  let where: SQL | undefined
  if (filter.status === 'launching')
    where = and(eq(replicas.status, 'launching'), isNull(replicas.instanceId), notInPrimaryPool(db, agent))
  else if (filter.status) where = eq(replicas.status, filter.status)
  else if (!filter.includeTerminated)
    where = notInArray(replicas.status, ['terminating', 'terminated', 'failed', 'promoted'])
  return db
    .select()
    .from(replicas)
    .where(and(ofAgent(agent), where))
    .orderBy(desc(replicas.createdAt))
    .limit(200)
}

/** The replica's pool is not the one the agent's primary runs in. */
function notInPrimaryPool(db: Database, agent: Agent) {
  if (!agent.instanceId) return undefined
  const primaryPool = db
    .select({ poolId: instances.poolId })
    .from(instances)
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.instanceId, agent.instanceId),
        isNotNull(instances.poolId),
      ),
    )
  return or(eq(replicas.mode, 'ondemand'), notInArray(replicas.poolId, primaryPool))
}

export interface StatusFacts {
  /** The real EC2 id, reported after launch (sets launched_at once). */
  instanceId?: string | null
  /** The market the agent launched it in, when it says (it may differ from the one planned). */
  mode?: 'spot' | 'ondemand' | null
  errorMessage?: string | null
  /** Agent-clock times, stored for durations. */
  syncStartedAt?: number | null
  syncCompletedAt?: number | null
}

/**
 * The update moving a replica to `to` at server time `now` (null when it is already there), or the
 * move's refusal (CONFLICT, with the replica's status). `ready` sets ready_at once (also on a promoted
 * replica); `terminated` and `failed` end it. Compare-and-set: it changes the row only while its status
 * is still the one read, so a move decided on a stale read (a promotion landed meanwhile) does nothing.
 */
export function statusUpdate(
  db: Database,
  replica: Replica,
  to: ReplicaStatus,
  facts: StatusFacts,
  now: number,
): { ok: true; update: ReturnType<typeof replicaUpdate> | null } | Refusal {
  const move = replicaMove(replica.status, to)
  if (move.kind === 'refused') return refuse('CONFLICT', move.reason, { status: replica.status })
  const readyNow = to === 'ready' && replica.readyAt === null
  if ((move.kind === 'same' || move.kind === 'late') && !readyNow && !hasFacts(replica, facts))
    return { ok: true, update: null }
  return {
    ok: true,
    update: replicaUpdate(db, replica, move.kind === 'late' ? replica.status : to, to, facts, now),
  }
}

/** How often a move is decided again after a concurrent request moved the replica first. */
const MOVE_TRIES = 3

/**
 * Moves the replica to `to` now (statusUpdate). When a concurrent request moved it between the read
 * and this write (the compare-and-set changed no row), reads it again and decides again: a report is
 * never answered as stored while the row still says otherwise (a replica's launch and its command can
 * both report, and a lost `ready` left it `syncing` for good). Whether a row changed, or the refusal.
 */
export async function moveReplica(
  db: Database,
  agent: Agent,
  replica: Replica,
  to: ReplicaStatus,
  facts: StatusFacts,
  now: number,
): Promise<{ ok: true; changed: boolean } | Refusal> {
  let current: Replica | undefined = replica
  for (let tries = 0; current && tries < MOVE_TRIES; tries++) {
    const move = statusUpdate(db, current, to, facts, now)
    if (!move.ok) return move
    if (!move.update) return { ok: true, changed: false }
    if ((await move.update).meta.changes > 0) return { ok: true, changed: true }
    current = await findReplica(db, agent, current.id)
  }
  return refuse('CONFLICT', 'the replica kept changing meanwhile: report again', {
    status: current?.status ?? null,
  })
}

function replicaUpdate(
  db: Database,
  replica: Replica,
  status: ReplicaStatus,
  to: ReplicaStatus,
  facts: StatusFacts,
  now: number,
) {
  return db
    .update(replicas)
    .set({
      status,
      instanceId: facts.instanceId ?? replica.instanceId,
      mode: facts.mode ?? replica.mode,
      launchedAt: facts.instanceId ? (replica.launchedAt ?? now) : replica.launchedAt,
      readyAt: to === 'ready' ? (replica.readyAt ?? now) : replica.readyAt,
      terminatedAt:
        to === 'terminated' || to === 'failed' ? (replica.terminatedAt ?? now) : replica.terminatedAt,
      errorMessage: facts.errorMessage ?? replica.errorMessage,
      syncStartedAt: facts.syncStartedAt ?? replica.syncStartedAt,
      syncCompletedAt: facts.syncCompletedAt ?? replica.syncCompletedAt,
      updatedAt: now,
    })
    .where(and(eq(replicas.id, replica.id), eq(replicas.status, replica.status)))
}

/**
 * A replica ended before its launch answered (no instance then) gets the instance EC2 runs for it:
 * `terminating` again, until that instance's end is known. Null when it is not such a replica.
 */
export function lateLaunchUpdate(
  db: Database,
  replica: Replica,
  launch: { instanceId: string; mode?: 'spot' | 'ondemand' | null },
  now: number,
) {
  if (replica.status !== 'terminated' || replica.instanceId !== null) return null
  return db
    .update(replicas)
    .set({
      status: 'terminating',
      instanceId: launch.instanceId,
      mode: launch.mode ?? replica.mode,
      launchedAt: replica.launchedAt ?? now,
      terminatedAt: null,
      updatedAt: now,
    })
    .where(and(eq(replicas.id, replica.id), eq(replicas.status, 'terminated'), isNull(replicas.instanceId)))
}

/** Whether the facts would change anything stored. */
function hasFacts(replica: Replica, facts: StatusFacts): boolean {
  return (
    (facts.instanceId != null && facts.instanceId !== replica.instanceId) ||
    (facts.mode != null && facts.mode !== replica.mode) ||
    (facts.errorMessage != null && facts.errorMessage !== replica.errorMessage) ||
    (facts.syncStartedAt != null && facts.syncStartedAt !== replica.syncStartedAt) ||
    (facts.syncCompletedAt != null && facts.syncCompletedAt !== replica.syncCompletedAt)
  )
}

/** The agent's latest replica on this EC2 instance (makes creation by a real instance id idempotent). */
export async function findByInstance(
  db: Database,
  agent: Agent,
  instanceId: string,
): Promise<Replica | null> {
  const [row] = await db
    .select()
    .from(replicas)
    .where(and(ofAgent(agent), eq(replicas.instanceId, instanceId)))
    .orderBy(desc(replicas.createdAt))
    .limit(1)
  return row ?? null
}

type NewReplica = typeof replicas.$inferInsert

/** A new replica. */
export function createReplica(db: Database, row: NewReplica) {
  return db.insert(replicas).values(row)
}

/** A new replica unless one of its signal key exists (a concurrent call won: its row stays). */
export function createReplicaOnce(db: Database, row: NewReplica) {
  return db.insert(replicas).values(row).onConflictDoNothing()
}

/**
 * Claims the promotion of a usable replica (compare-and-set on its status): true for the one caller
 * that moved it to `promoted`, false when another promotion (a concurrent or replayed one) already did.
 */
export async function claimPromotion(db: Database, replica: Replica, now: number): Promise<boolean> {
  const claimed = await db
    .update(replicas)
    .set({ status: 'promoted', promotedAt: now, updatedAt: now })
    .where(and(eq(replicas.id, replica.id), inArray(replicas.status, ['ready', 'syncing'])))
    .returning({ id: replicas.id })
  return claimed.length === 1
}

/** Gives a claimed promotion back when its records could not be written (the replica as it was read). */
export function releasePromotion(db: Database, replica: Replica, now: number) {
  return db
    .update(replicas)
    .set({ status: replica.status, promotedAt: replica.promotedAt, updatedAt: now })
    .where(and(eq(replicas.id, replica.id), eq(replicas.status, 'promoted')))
}

/**
 * The agent refused a command on the replica (compare-and-set on the status read, `promoted` or
 * `terminating`): `failed` with the refusal when its instance is not tagged as the replica (the record
 * is no longer ours to count or run; no end time: EC2 runs that instance, for someone else), or
 * `ready` again when it is and the refusal was about another instance (a promotion's address holder).
 */
export function refusedReplicaUpdate(
  db: Database,
  replica: Replica,
  to: 'failed' | 'ready',
  reason: string,
  now: number,
) {
  return db
    .update(replicas)
    .set({ status: to, errorMessage: reason, updatedAt: now })
    .where(and(eq(replicas.id, replica.id), eq(replicas.status, replica.status)))
}

/** What went wrong with the replica (or what its owner must do about it); null clears it. */
export function setReplicaError(db: Database, replica: Replica, errorMessage: string | null, now: number) {
  return db
    .update(replicas)
    .set({ errorMessage, updatedAt: now })
    .where(and(eq(replicas.clientId, replica.clientId), eq(replicas.id, replica.id)))
}

/** The sync figures the replica's agent reports. */
export function recordSyncMetrics(
  db: Database,
  agent: Agent,
  replicaId: string,
  metrics: Pick<NewReplica, 'syncStatus' | 'syncLatencyMs' | 'stateTransferProgress'>,
  now: number,
) {
  return db
    .update(replicas)
    .set({ ...metrics, updatedAt: now })
    .where(and(eq(replicas.id, replicaId), eq(replicas.agentId, agent.id)))
}

/** The agent's replicas nobody launched (still `launching`, no instance) fail for `reason`. */
export function failUnlaunchedReplicas(db: Database, agent: Agent, reason: string, now: number) {
  return db
    .update(replicas)
    .set({ status: 'failed', terminatedAt: now, errorMessage: reason, updatedAt: now })
    .where(and(ofAgent(agent), eq(replicas.status, 'launching'), isNull(replicas.instanceId)))
}

/** These replicas (at most 90 ids: D1's bound parameters) fail for `reason`. */
export function failReplicas(db: Database, replicaIds: string[], reason: string, now: number) {
  return db
    .update(replicas)
    .set({ status: 'failed', terminatedAt: now, errorMessage: reason, updatedAt: now })
    .where(inArray(replicas.id, replicaIds))
}
