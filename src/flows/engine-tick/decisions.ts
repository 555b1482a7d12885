/**
 * Stored engine decisions. A run that repeats the agent's previous decision (same kind, target, blocks
 * and parameter version) bumps its `repeat_count` and `last_seen_at` and stores what it saw (reasons,
 * inputs, risk) over the previous run's, so the row shows the engine's latest view.
 * Writes: `decisions`.
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { decisions, type Agent } from '../../db/schema'
import { newId } from '../../ids'
import type { Decision } from '../../engine/types'

import { latestDecision, type DecisionRow } from '../../db/queries/latest-decision'

function sameDecision(row: DecisionRow, d: Decision, version: number): boolean {
  return (
    row.paramsVersion === version &&
    row.decision === d.decision &&
    row.targetMode === (d.target?.mode ?? null) &&
    row.targetPoolId === (d.target?.poolId ?? null) &&
    row.reasonCode === d.reason_code &&
    JSON.stringify(row.blockedBy) === JSON.stringify(d.blocked_by)
  )
}

export interface DecisionRun {
  version: number
  shadow: boolean
  decision: Decision
  inputs: unknown
}

/**
 * The write that stores the decision after `previous` (the agent's latest of its kind): a bump of
 * `previous` when identical, else a new row. Not run here, so a client's run can batch them.
 */
export function decisionWrite(
  db: Database,
  agent: Agent,
  run: DecisionRun,
  previous: DecisionRow | null,
  now: number,
): { id: string; created: boolean; statement: BatchItem<'sqlite'> } {
  const d = run.decision
  if (previous && sameDecision(previous, d, run.version)) {
    const statement = db
      .update(decisions)
      // What this run saw replaces the previous run's: the options page and the list read it from here.
      .set({
        repeatCount: sql`${decisions.repeatCount} + 1`,
        lastSeenAt: now,
        expectedSavingsPerHour: d.expected_savings_per_hour,
        risk: d.risk,
        confidence: d.confidence,
        reasons: d.reasons,
        inputs: run.inputs,
      })
      .where(eq(decisions.id, previous.id))
    return { id: previous.id, created: false, statement }
  }
  const id = newId('dec')
  const statement = db.insert(decisions).values({
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
    reasonCode: d.reason_code,
    reasons: d.reasons,
    blockedBy: d.blocked_by,
    inputs: run.inputs,
    createdAt: now,
    lastSeenAt: now,
  })
  return { id, created: true, statement }
}

/** Stores the decision (or bumps the previous identical one); returns its row id and whether it is new. */
export async function storeDecision(
  db: Database,
  agent: Agent,
  run: DecisionRun,
  now: number,
): Promise<{ id: string; created: boolean }> {
  const previous = await latestDecision(db, agent, run.shadow)
  const { statement, ...stored } = decisionWrite(db, agent, run, previous, now)
  await runBatch(db, [statement])
  return stored
}

/**
 * The latest decisions (live and shadow) of some agents of one client, in one query, keyed
 * `<agentId>|<shadow>`: the row `latestDecision` would read for each. At most 90 agents (D1 binds
 * at most 100 parameters).
 */
export async function latestDecisionsOf(
  db: Database,
  clientId: string,
  agentIds: readonly string[],
): Promise<Map<string, DecisionRow>> {
  if (agentIds.length === 0) return new Map()
  const rows = await db
    .select()
    .from(decisions)
    .where(
      and(
        eq(decisions.clientId, clientId),
        inArray(decisions.agentId, [...agentIds]),
        eq(
          decisions.id,
          // `later` is the inner read of the table; `decisions` the outer row.
          sql`(select later.id from ${decisions} later where later.agent_id = ${decisions.agentId}
            and later.client_id = ${decisions.clientId} and later.shadow = ${decisions.shadow}
            order by later.last_seen_at desc, later.created_at desc limit 1)`,
        ),
      ),
    )
  return new Map(rows.map((r) => [latestKey(r.agentId, r.shadow), r]))
}

export const latestKey = (agentId: string, shadow: boolean) => `${agentId}|${shadow}`

/** Links a decision to the command that applies it. */
export async function markApplied(
  db: Database,
  decisionId: string,
  commandId: string,
  now: number,
): Promise<void> {
  await db.update(decisions).set({ commandId, appliedAt: now }).where(eq(decisions.id, decisionId))
}
