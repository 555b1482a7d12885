/**
 * Stored engine decisions. A run that repeats the agent's previous decision (same kind, target, blocks
 * and parameter version) only bumps its `repeat_count` and `last_seen_at`.
 * Writes: `decisions`.
 */
import { and, desc, eq, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { decisions, type Agent } from '../../db/schema'
import { newId } from '../../ids'
import type { Decision } from '../../engine/types'

export type DecisionRow = typeof decisions.$inferSelect

/** The agent's latest decision (live or shadow), or null. */
export async function latestDecision(
  db: Database,
  agent: Agent,
  shadow: boolean,
): Promise<DecisionRow | null> {
  const [row] = await db
    .select()
    .from(decisions)
    .where(
      and(
        eq(decisions.agentId, agent.id),
        eq(decisions.clientId, agent.clientId),
        eq(decisions.shadow, shadow),
      ),
    )
    .orderBy(desc(decisions.lastSeenAt), desc(decisions.createdAt))
    .limit(1)
  return row ?? null
}

function sameDecision(row: DecisionRow, d: Decision, version: number): boolean {
  return (
    row.paramsVersion === version &&
    row.decision === d.decision &&
    row.targetMode === (d.target?.mode ?? null) &&
    row.targetPoolId === (d.target?.poolId ?? null) &&
    JSON.stringify(row.blockedBy) === JSON.stringify(d.blocked_by)
  )
}

/** Stores the decision (or bumps the previous identical one); returns its row id and whether it is new. */
export async function storeDecision(
  db: Database,
  agent: Agent,
  run: { version: number; shadow: boolean; decision: Decision; inputs: unknown },
  now: number,
): Promise<{ id: string; created: boolean }> {
  const d = run.decision
  const previous = await latestDecision(db, agent, run.shadow)
  if (previous && sameDecision(previous, d, run.version)) {
    await db
      .update(decisions)
      .set({ repeatCount: sql`${decisions.repeatCount} + 1`, lastSeenAt: now })
      .where(eq(decisions.id, previous.id))
    return { id: previous.id, created: false }
  }
  const id = newId('dec')
  await db.insert(decisions).values({
    id,
    clientId: agent.clientId,
    agentId: agent.id,
    paramsVersion: run.version,
    shadow: run.shadow,
    decision: d.decision,
    targetMode: d.target?.mode ?? null,
    targetPoolId: d.target?.poolId ?? null,
    expectedSavingsPerHour: d.expected_savings_per_hour,
    risk: d.risk,
    confidence: d.confidence,
    reasons: d.reasons,
    blockedBy: d.blocked_by,
    inputs: run.inputs,
    createdAt: now,
    lastSeenAt: now,
  })
  return { id, created: true }
}

/** Links a decision to the command that applies it. */
export async function markApplied(
  db: Database,
  decisionId: string,
  commandId: string,
  now: number,
): Promise<void> {
  await db.update(decisions).set({ commandId, appliedAt: now }).where(eq(decisions.id, decisionId))
}
