/**
 * Value of a move: expected savings per hour against the current placement, minus the switch cost
 * amortised over `min_pool_duration_hours` (at least 1 h), minus the difference in risk penalties.
 */
import type { EngineParams, Thresholds } from './params'
import type { PoolQuote, Target } from './types'

/** A placement the engine can price: on-demand or a spot pool with its quote. */
export interface Candidate {
  placement: Target
  /** USD/h. */
  price: number
  /** 0-1. */
  risk: number
  quote: PoolQuote | null
}

/** Price plus risk penalty, USD/h. */
export function riskAdjustedCost(c: Candidate, onDemandPrice: number, params: EngineParams): number {
  return c.price + c.risk * params.risk_penalty * onDemandPrice
}

/** What one switch costs: both instances run for the overlap, USD. */
export function switchCost(from: Candidate, to: Candidate, params: EngineParams): number {
  return (params.switch_overlap_minutes / 60) * (from.price + to.price)
}

/** Net value of moving from `from` to `to`, USD/h (positive: worth it before guardrails). */
export function moveValue(
  from: Candidate,
  to: Candidate,
  onDemandPrice: number,
  params: EngineParams,
  thresholds: Thresholds,
): number {
  const amortiseHours = Math.max(1, thresholds.min_pool_duration_hours)
  return (
    riskAdjustedCost(from, onDemandPrice, params) -
    riskAdjustedCost(to, onDemandPrice, params) -
    switchCost(from, to, params) / amortiseHours
  )
}
