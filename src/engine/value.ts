/**
 * Value of a move: expected savings per hour against the current placement, minus the switch cost
 * amortised over the expected stay (`expected_stay_hours`, at least `min_pool_duration_hours` and
 * 1 h), minus the difference in risk penalties.
 * A pool's expected price leans on its 24 h mean by `price_memory`: a low price that just appeared
 * is not taken to last as a low level would.
 */
import type { EngineParams, Thresholds } from './params'
import type { PoolQuote, Target } from './types'

/** A placement the engine can price: on-demand or a spot pool with its quote. */
export interface Candidate {
  placement: Target
  /** USD/h, now. */
  price: number
  /** USD/h the engine expects over a stay (expectedPrice); absent: `price`. */
  expected?: number
  /** 0-1. */
  risk: number
  quote: PoolQuote | null
}

/** The price a pool is expected to hold over a stay: its current price leaning on its 24 h mean, USD/h. */
export function expectedPrice(pool: PoolQuote, params: EngineParams): number {
  const mean = pool.mean24h
  if (mean === undefined || !(mean > 0)) return pool.price
  return (1 - params.price_memory) * pool.price + params.price_memory * mean
}

/** Expected price plus risk penalty, USD/h. */
export function riskAdjustedCost(c: Candidate, onDemandPrice: number, params: EngineParams): number {
  return (c.expected ?? c.price) + c.risk * params.risk_penalty * onDemandPrice
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
  const amortiseHours = Math.max(1, thresholds.min_pool_duration_hours, params.expected_stay_hours)
  return (
    riskAdjustedCost(from, onDemandPrice, params) -
    riskAdjustedCost(to, onDemandPrice, params) -
    switchCost(from, to, params) / amortiseHours
  )
}
