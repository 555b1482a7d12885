/**
 * Capacity evidence of a pool, the `capacity` component of its risk (risk.ts): the spot placement
 * score of its AZ (GetSpotPlacementScores, 1-10, asked by the client's agent) and the launches there
 * that failed for lack of capacity (a switch's or a replica's). A low score or a capacity error raises
 * the risk; a score fades out after SCORE_FULL_HOURS, gone at SCORE_GONE_HOURS. A pool with neither
 * has no capacity evidence: the component then carries no weight, and the pool's risk is what the
 * history says. Pure.
 */
import type { PoolQuote } from './types'

/** A score this young counts fully (the agent asks every 6 h: one missed round still counts). */
export const SCORE_FULL_HOURS = 12
/** A score this old no longer counts. */
export const SCORE_GONE_HOURS = 24
/** Capacity errors in 24 h at which the error part reaches 63 % (1 − e⁻¹). */
const ERRORS_SCALE = 1

/** Evidence at or above this value (a score of 5 or less, a failed launch) is named in decisions' reasons. */
export const SHORT_OF_CAPACITY = 0.5

export interface CapacityEvidence {
  /** 0 (capacity to spare) to 1 (none): the component's value. */
  value: number
  /** 0-1: how much of the component's weight it carries (a fading score carries less). */
  strength: number
}

/** How much a score `ageHours` old still counts, 0-1. */
export function scoreStrength(ageHours: number): number {
  if (!(ageHours >= 0)) return 0
  if (ageHours <= SCORE_FULL_HOURS) return 1
  return Math.max(0, 1 - (ageHours - SCORE_FULL_HOURS) / (SCORE_GONE_HOURS - SCORE_FULL_HOURS))
}

/** The pool's capacity evidence; null when it has none (no counting score, no capacity error). */
export function capacityEvidence(pool: PoolQuote): CapacityEvidence | null {
  const score = pool.placementScore ?? null
  const scoreWeight = score ? scoreStrength(score.ageHours) : 0
  const errors = Math.max(0, pool.capacityErrors24h ?? 0)
  if (scoreWeight === 0 && errors === 0) return null
  const low = scoreWeight > 0 ? (10 - Math.min(10, Math.max(1, score!.score))) / 9 : 0
  const failed = 1 - Math.exp(-errors / ERRORS_SCALE)
  return { value: 1 - (1 - low) * (1 - failed), strength: errors > 0 ? 1 : scoreWeight }
}

/** The pool's capacity evidence in words, for a decision's reasons; null without any. */
export function describeCapacity(pool: PoolQuote): string | null {
  const parts: string[] = []
  const score = pool.placementScore
  if (score && scoreStrength(score.ageHours) > 0)
    parts.push(`placement score ${score.score}/10 (${score.ageHours.toFixed(1)} h old)`)
  const errors = pool.capacityErrors24h ?? 0
  if (errors > 0) parts.push(`${errors} launch(es) failed for capacity in 24 h`)
  return parts.length > 0 ? parts.join(', ') : null
}
