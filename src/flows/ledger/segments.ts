/**
 * Usage segments derived from the recorded facts, at their server times.
 * What runs: the agent's current instance (primary), its other live instances (overlap: an old instance
 * between a switch and its confirmed termination) and its launched replicas that EC2 runs (replica,
 * from `launched_at`; a `terminating` one until its end is known). `syncSegments` closes the open
 * segments that no longer run (at the instance's or replica's recorded end) and opens the missing ones
 * (at the switch or launch that started them), so calling it after each event, and from cron for
 * anything missed, gives the same ledger (sync-page.ts plans the same for a page of a client's agents).
 * Writes: `usage_segments`.
 */
import { and, desc, eq, gt, isNull, or } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { instances, replicas, switches, usageSegments, type Agent } from '../../db/schema'
import { newId } from '../../ids'
import { BILLED_REPLICA_STATUSES } from '../replicas/states'

// A terminating replica's instance runs (and is billed) until its end is known.
const BILLED_REPLICA = new Set<string>(BILLED_REPLICA_STATUSES)
type SegmentRow = typeof usageSegments.$inferSelect
type Wanted = Omit<SegmentRow, 'id' | 'clientId' | 'agentId' | 'endedAt'>

const keyOf = (s: Pick<SegmentRow, 'instanceId' | 'role' | 'mode' | 'poolId'>) =>
  `${s.instanceId}|${s.role}|${s.mode}|${s.poolId}`

type SwitchFact = { at: number; oldId: string | null; newId: string | null; launchedAt: number | null }

/** What a sync reads of one agent: its recent segments, its instances, replicas and switches (newest first). */
export interface SegmentFacts {
  segments: SegmentRow[]
  insts: (typeof instances.$inferSelect)[]
  reps: (typeof replicas.$inferSelect)[]
  sws: SwitchFact[]
}

/** Switches read per agent, newest first: enough to find what made each live instance primary. */
export const SWITCHES_READ = 500
export const SEGMENTS_DAYS_MS = 30 * 86_400_000

/** Brings the agent's segments in line with its instances and replicas; returns how many changed. */
export async function syncSegments(
  db: Database,
  agent: Agent,
  now: number,
): Promise<{ opened: number; closed: number }> {
  const mine = and(eq(usageSegments.agentId, agent.id), eq(usageSegments.clientId, agent.clientId))
  // One D1 round trip for the four reads (every registration and switch report syncs its agent).
  const [segments, insts, reps, sws] = await db.batch([
    db
      .select()
      .from(usageSegments)
      .where(and(mine, or(isNull(usageSegments.endedAt), gt(usageSegments.endedAt, now - SEGMENTS_DAYS_MS)))),
    db
      .select()
      .from(instances)
      .where(and(eq(instances.agentId, agent.id), eq(instances.clientId, agent.clientId))),
    db
      .select()
      .from(replicas)
      .where(and(eq(replicas.agentId, agent.id), eq(replicas.clientId, agent.clientId))),
    db
      .select({
        at: switches.receivedAt,
        oldId: switches.oldInstanceId,
        newId: switches.newInstanceId,
        launchedAt: switches.launchedAt,
      })
      .from(switches)
      // An undone switch (the agent refused it) never moved the workload.
      .where(
        and(eq(switches.agentId, agent.id), eq(switches.clientId, agent.clientId), isNull(switches.undoneAt)),
      )
      .orderBy(desc(switches.receivedAt))
      .limit(SWITCHES_READ),
  ])
  const plan = planSegments(db, agent, { segments, insts, reps, sws }, now)
  await runBatch(db, plan.statements)
  return { opened: plan.opened, closed: plan.closed }
}

/** The writes that bring one agent's segments in line with what was read of it (not run here). */
export function planSegments(
  db: Database,
  agent: Agent,
  { segments, insts, reps, sws }: SegmentFacts,
  now: number,
): { statements: BatchItem<'sqlite'>[]; opened: number; closed: number } {
  const alive = agent.status !== 'deleted' && agent.deletedAt === null
  const replicaInstances = new Set(
    reps.filter((r) => BILLED_REPLICA.has(r.status)).flatMap((r) => (r.instanceId ? [r.instanceId] : [])),
  )
  const lastEnd = (instanceId: string, role: string) =>
    segments
      .filter((s) => s.instanceId === instanceId && s.role === role && s.endedAt !== null)
      .reduce((m, s) => Math.max(m, s.endedAt!), 0)
  const wanted: Wanted[] = []
  for (const i of insts) {
    // An interrupted instance is recorded as ended at its notice's time, which may still be ahead.
    const runs = i.status === 'active' || (i.terminatedAt !== null && i.terminatedAt > now)
    if (!alive || !runs || replicaInstances.has(i.instanceId) || !i.instanceType || !i.region) continue
    const isPrimary = i.instanceId === agent.instanceId
    const madePrimary = sws.find((s) => s.newId === i.instanceId)
    const started = isPrimary
      ? madePrimary
        ? startOfNew(
            madePrimary,
            reps.some((r) => r.instanceId === i.instanceId),
          )
        : i.createdAt
      : (sws.find((s) => s.oldId === i.instanceId)?.at ?? now)
    const role = isPrimary ? 'primary' : 'overlap'
    wanted.push({
      instanceId: i.instanceId,
      role,
      mode: i.mode,
      poolId: i.mode === 'spot' ? i.poolId : null,
      instanceType: i.instanceType,
      region: i.region,
      startedAt: Math.max(started, lastEnd(i.instanceId, role)),
    })
  }
  for (const r of reps) {
    if (!alive || !BILLED_REPLICA.has(r.status) || !r.instanceId || r.launchedAt === null) continue
    wanted.push({
      instanceId: r.instanceId,
      role: 'replica',
      mode: r.mode,
      poolId: r.mode === 'spot' ? r.poolId : null,
      instanceType: r.instanceType,
      region: r.region,
      startedAt: Math.max(r.launchedAt, lastEnd(r.instanceId, 'replica')),
    })
  }

  const open = segments.filter((s) => s.endedAt === null)
  const openKeys = new Set(open.map(keyOf))
  const wantedByKey = new Map(wanted.map((w) => [keyOf(w), w]))
  const statements: BatchItem<'sqlite'>[] = []
  let closed = 0
  for (const s of open) {
    const still = wantedByKey.get(keyOf(s))
    // Opened at the new instance's registration, before the switch report said when EC2 launched it.
    if (still && still.startedAt < s.startedAt)
      statements.push(
        db.update(usageSegments).set({ startedAt: still.startedAt }).where(eq(usageSegments.id, s.id)),
      )
    if (still) continue
    const end = Math.min(now, Math.max(s.startedAt, recordedEnd(s, insts, reps, sws) ?? now))
    statements.push(db.update(usageSegments).set({ endedAt: end }).where(eq(usageSegments.id, s.id)))
    closed++
  }
  const toOpen = wanted.filter((w) => !openKeys.has(keyOf(w)))
  for (const w of toOpen) {
    statements.push(
      db
        .insert(usageSegments)
        .values({
          ...w,
          id: newId('seg'),
          clientId: agent.clientId,
          agentId: agent.id,
          startedAt: Math.min(w.startedAt, now),
          endedAt: null,
        })
        // Another sync of this agent may have opened it since we read (usage_segments_open_key).
        .onConflictDoNothing(),
    )
  }
  return { statements, opened: toOpen.length, closed }
}

/** A switch may have waited this long between its launch and its report (AMI, status checks, a retry). */
const MAX_LAUNCH_TO_REPORT_MS = 2 * 3_600_000

/**
 * Where a switch's new instance starts to cost: at its launch as the agent reported it (EC2 bills from
 * then, and the report comes after the status checks and the address move: minutes later), within
 * [received − MAX_LAUNCH_TO_REPORT_MS, received] against a wrong agent clock. A promoted replica's
 * instance was billed as a replica until the switch: from the switch's receipt.
 */
function startOfNew(sw: { at: number; launchedAt: number | null }, wasReplica: boolean): number {
  if (wasReplica || sw.launchedAt === null) return sw.at
  return Math.min(sw.at, Math.max(sw.launchedAt, sw.at - MAX_LAUNCH_TO_REPORT_MS))
}

/**
 * When the segment stopped, as recorded: a replica's end or promotion, an instance's termination, or
 * the switch that took the primary role away from it; null when unrecorded (then: now).
 */
function recordedEnd(
  s: SegmentRow,
  insts: (typeof instances.$inferSelect)[],
  reps: (typeof replicas.$inferSelect)[],
  sws: { at: number; oldId: string | null }[],
): number | null {
  if (s.role === 'replica') {
    const r = reps.find((x) => x.instanceId === s.instanceId)
    return r ? (r.terminatedAt ?? r.promotedAt ?? (BILLED_REPLICA.has(r.status) ? null : r.updatedAt)) : null
  }
  const terminated = insts.find((i) => i.instanceId === s.instanceId)?.terminatedAt ?? null
  const switchedAway =
    s.role === 'primary' ? sws.find((w) => w.oldId === s.instanceId && w.at >= s.startedAt)?.at : undefined
  // An interrupted primary may have ended before the switch away from it was heard.
  if (switchedAway !== undefined && terminated !== null) return Math.min(switchedAway, terminated)
  return switchedAway ?? terminated
}
