/**
 * `syncSegments` (segments.ts) for a page of one client's agents, as the engine's 5-minute run does
 * it: one read per table for the page and one batch, the same rows read and the same writes planned
 * for each agent as its own sync would.
 * Writes: `usage_segments`.
 */
import { and, desc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { instances, replicas, switches, usageSegments, type Agent } from '../../db/schema'
import { planSegments, SEGMENTS_DAYS_MS, SWITCHES_READ } from './segments'

/** Agents per read of `syncSegmentsOf`: their ids and a few more parameters stay within D1's 100. */
export const SEGMENTS_CHUNK = 80

/**
 * `syncSegments` for some agents of one client (at most SEGMENTS_CHUNK) with four reads and one batch:
 * the same rows read, the same writes planned for each agent.
 */
export async function syncSegmentsOf(
  db: Database,
  clientId: string,
  agents: readonly Agent[],
  now: number,
): Promise<{ opened: number; closed: number }> {
  if (agents.length === 0) return { opened: 0, closed: 0 }
  if (agents.length > SEGMENTS_CHUNK) throw new Error(`at most ${SEGMENTS_CHUNK} agents per sync`)
  const ids = agents.map((a) => a.id)
  const ranked = db
    .select({
      agentId: switches.agentId,
      at: switches.receivedAt,
      oldId: switches.oldInstanceId,
      newId: switches.newInstanceId,
      launchedAt: switches.launchedAt,
      recency:
        sql<number>`row_number() over (partition by ${switches.agentId} order by ${switches.receivedAt} desc)`.as(
          'recency',
        ),
    })
    .from(switches)
    .where(and(inArray(switches.agentId, ids), eq(switches.clientId, clientId), isNull(switches.undoneAt)))
    .as('ranked')
  const [segments, insts, reps, sws] = await Promise.all([
    db
      .select()
      .from(usageSegments)
      .where(
        and(
          inArray(usageSegments.agentId, ids),
          eq(usageSegments.clientId, clientId),
          or(isNull(usageSegments.endedAt), gt(usageSegments.endedAt, now - SEGMENTS_DAYS_MS)),
        ),
      ),
    db
      .select()
      .from(instances)
      .where(and(inArray(instances.agentId, ids), eq(instances.clientId, clientId))),
    db
      .select()
      .from(replicas)
      .where(and(inArray(replicas.agentId, ids), eq(replicas.clientId, clientId))),
    db.select().from(ranked).where(lte(ranked.recency, SWITCHES_READ)).orderBy(desc(ranked.at)),
  ])
  const totals = { opened: 0, closed: 0 }
  const statements: BatchItem<'sqlite'>[] = []
  for (const agent of agents) {
    const of = <T extends { agentId: string }>(rows: T[]) => rows.filter((r) => r.agentId === agent.id)
    const plan = planSegments(
      db,
      agent,
      { segments: of(segments), insts: of(insts), reps: of(reps), sws: of(sws) },
      now,
    )
    statements.push(...plan.statements)
    totals.opened += plan.opened
    totals.closed += plan.closed
  }
  await runBatch(db, statements)
  return totals
}
