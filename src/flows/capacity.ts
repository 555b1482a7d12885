/**
 * Capacity evidence of spot pools, the engine's capacity risk (engine/capacity.ts): the placement
 * scores an agent reports (per client: scores are per AWS account) with whether its requests are
 * answered at all, and the launches that failed for lack of capacity (a switch's, a replica's).
 * Writes: `placement_scores`, `placement_score_status`, `capacity_errors`.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import {
  capacityErrors,
  placementScores,
  placementScoreStatus,
  type Agent,
  type PLACEMENT_SCORE_STATUSES,
  type Replica,
} from '../db/schema'
import { log } from '../log'
import type { QueuedCommand } from '../session/types'
import { failedSwitchOf } from './switch/failed'

/** EC2's words for a launch that found no capacity (RunInstances codes, spot request status codes). */
const CAPACITY = /Insufficient\w*Capacity|capacity-not-available|capacity-oversubscribed/

/** Whether an EC2 failure message says the pool had no capacity. */
export function isCapacityError(message: string | null | undefined): boolean {
  return CAPACITY.test(message ?? '')
}

export interface ScoreReport {
  status: (typeof PLACEMENT_SCORE_STATUSES)[number]
  detail: string | null
  /** Pools of the agent's region, each with its AZ's score (1-10). */
  scores: { poolId: string; score: number }[]
}

/**
 * Stores what an agent's placement-score request got at server time `now`: each pool's score (the
 * client's latest replaces its previous one) and the agent's status. Pools are the route's to check.
 */
export async function recordPlacementScores(
  db: Database,
  agent: Pick<Agent, 'id' | 'clientId'>,
  report: ScoreReport,
  now: number,
): Promise<void> {
  const status = db
    .insert(placementScoreStatus)
    .values({
      agentId: agent.id,
      clientId: agent.clientId,
      status: report.status,
      detail: report.detail,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: placementScoreStatus.agentId,
      set: { status: report.status, detail: report.detail, updatedAt: now },
    })
  const scores = report.scores.map((s) =>
    db
      .insert(placementScores)
      .values({
        clientId: agent.clientId,
        poolId: s.poolId,
        score: s.score,
        scoredAt: now,
        agentId: agent.id,
      })
      .onConflictDoUpdate({
        target: [placementScores.clientId, placementScores.poolId],
        set: { score: sql`excluded.score`, scoredAt: now, agentId: agent.id },
      }),
  )
  await db.batch([status, ...scores])
}

/** A failed launch into a spot pool for lack of capacity. */
export interface CapacityError {
  /** Derived from its source, so that recording it twice stores it once. */
  id: string
  poolId: string
  source: 'switch' | 'replica'
  message: string | null
  /** Server epoch ms. */
  at: number
}

/** The capacity error of a switch command that failed launching into its spot pool; null otherwise. */
export function switchCapacityError(c: QueuedCommand): CapacityError | null {
  const failed = failedSwitchOf(c)
  if (c.wire.command_type !== 'switch' || c.wire.target_mode !== 'spot' || !c.wire.target_pool_id) return null
  if (failed?.status !== 'failed' || !isCapacityError(failed.message)) return null
  return {
    id: `cap_switch_${failed.commandId}`,
    poolId: c.wire.target_pool_id,
    source: 'switch',
    message: failed.message,
    at: failed.at,
  }
}

/** The capacity error of a spot replica that failed to launch; null otherwise. */
export function replicaCapacityError(replica: Replica, now: number): CapacityError | null {
  if (replica.status !== 'failed' || replica.mode !== 'spot' || !replica.poolId) return null
  if (!isCapacityError(replica.errorMessage)) return null
  return {
    id: `cap_replica_${replica.id}`,
    poolId: replica.poolId,
    source: 'replica',
    message: replica.errorMessage,
    at: replica.terminatedAt ?? now,
  }
}

/** Records a capacity error of the agent's (once per id); a failure to is logged, never thrown. */
export async function recordCapacityError(
  db: Database,
  owner: { clientId: string; agentId: string },
  error: CapacityError,
): Promise<void> {
  try {
    await db
      .insert(capacityErrors)
      .values({
        ...error,
        message: error.message?.slice(0, 1000) ?? null,
        clientId: owner.clientId,
        agentId: owner.agentId,
      })
      .onConflictDoNothing()
  } catch (err) {
    log.error({
      job: 'capacity-error',
      agent_id: owner.agentId,
      id: error.id,
      message: (err as Error).message,
    })
  }
}
