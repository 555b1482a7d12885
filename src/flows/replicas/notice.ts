/**
 * Interruption notices as the control plane keeps them: one `termination_notice` event per notice
 * (the pool's risk data), whose `action` says how it was answered so far. A notice answered with
 * `emergency_snapshot_required` (no usable replica yet) stays outstanding until a replica is promoted
 * for it or a switch away from its instance is recorded: the replica launched for it is promoted the
 * moment it becomes usable. Reads only; events' one writer is flows/events.ts.
 */
import { and, desc, eq, gte, isNull } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { events, switches, type Agent } from '../../db/schema'

export type NoticeEvent = typeof events.$inferSelect

/** The notice still waits for a replica to promote. */
export const AWAITING_REPLICA = 'emergency_snapshot_required'
/** Nothing could be launched for it (every pool refused): recorded and notified. */
export const REPLACEMENT_FAILED = 'replacement_failed'

/** What AWS announces when a notice carries no usable time. */
const NOTICE_MS = 120_000
/** A notice's end is never taken further out than this from its receipt. */
export const MAX_NOTICE_MS = 10 * 60_000

/**
 * When the interrupted instance ends, in server time: the notice's termination time (AWS's own
 * clock, read from IMDS, not the agent's), within [received, received + 10 min]; without one, two
 * minutes after it was received.
 */
export function noticeEnd(event: Pick<NoticeEvent, 'receivedAt' | 'terminationTime'>): number {
  const at = event.terminationTime ?? event.receivedAt + NOTICE_MS
  return Math.min(event.receivedAt + MAX_NOTICE_MS, Math.max(event.receivedAt, at))
}

/** The event of this notice (same instance and termination time), if it was received before; the newest. */
export async function findNotice(
  db: Database,
  agent: Pick<Agent, 'clientId' | 'id'>,
  instanceId: string,
  /** Omitted: the instance's newest notice, whatever its time (an instance is interrupted once). */
  terminationTime?: number | null,
): Promise<NoticeEvent | null> {
  const [row] = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.clientId, agent.clientId),
        eq(events.agentId, agent.id),
        eq(events.kind, 'termination_notice'),
        eq(events.instanceId, instanceId),
        terminationTime === undefined
          ? undefined
          : terminationTime === null
            ? isNull(events.terminationTime)
            : eq(events.terminationTime, terminationTime),
      ),
    )
    .orderBy(desc(events.receivedAt))
    .limit(1)
  return row ?? null
}

/** Older notices are history: whatever happened to them, no replica is promoted for them any more. */
export const OUTSTANDING_FOR_MS = 24 * 3_600_000

/**
 * The agent's newest notice still waiting for a replica at `now`, or null: only one about the instance
 * the agent still runs on (a switch, promotion or registration elsewhere has moved the workload since).
 */
export async function outstandingNotice(
  db: Database,
  agent: Agent,
  now: number,
): Promise<NoticeEvent | null> {
  if (!agent.instanceId) return null
  const [notice] = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.clientId, agent.clientId),
        eq(events.agentId, agent.id),
        eq(events.kind, 'termination_notice'),
        eq(events.action, AWAITING_REPLICA),
        eq(events.instanceId, agent.instanceId),
        gte(events.receivedAt, now - OUTSTANDING_FOR_MS),
      ),
    )
    .orderBy(desc(events.receivedAt))
    .limit(1)
  if (!notice?.instanceId) return null
  // A switch away from the interrupted instance (the agent's own emergency launch) answered it.
  const [moved] = await db
    .select({ id: switches.id })
    .from(switches)
    .where(
      and(
        eq(switches.agentId, agent.id),
        eq(switches.oldInstanceId, notice.instanceId),
        gte(switches.receivedAt, notice.receivedAt),
      ),
    )
    .limit(1)
  return moved ? null : notice
}
