/**
 * Risk of a spot pool, 0 (safe) to 1: a weighted mean of five components, each mapped to 0-1.
 * - interruptions: 1 − exp(−n / interruptions_scale), n = fleet-wide notices in 30 days
 * - rebalances:    1 − exp(−n / rebalances_scale), n = rebalance signals in 30 days
 * - followThrough: share of those rebalances followed by a notice within 2 h (0 without rebalances)
 * - volatility:    24 h coefficient of variation / volatility_scale, capped at 1
 * - trend:         1 h relative rise / trend_scale, 0 for a falling price, capped at 1
 * - ratio:         (spot / on-demand − 0.3) / 0.6, clamped: AWS reclaims more as the price nears on-demand
 * On-demand has risk 0.
 */
import type { EngineParams } from './params'
import type { PoolQuote } from './types'

export interface RiskComponents {
  interruptions: number
  rebalances: number
  followThrough: number
  volatility: number
  trend: number
  ratio: number
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1)

/** Each component of a pool's risk, 0-1. */
export function riskComponents(pool: PoolQuote, onDemandPrice: number, params: EngineParams): RiskComponents {
  return {
    interruptions: 1 - Math.exp(-pool.interruptions30d / params.interruptions_scale),
    rebalances: 1 - Math.exp(-pool.rebalances30d / params.rebalances_scale),
    followThrough: pool.rebalances30d > 0 ? clamp01(pool.rebalancesFollowed30d / pool.rebalances30d) : 0,
    volatility: clamp01(pool.volatility24h / params.volatility_scale),
    trend: clamp01(pool.trend1h / params.trend_scale),
    ratio: clamp01((pool.price / onDemandPrice - 0.3) / 0.6),
  }
}

/** The pool's risk: components weighted by `params.weights` (normalised by their sum). */
export function poolRisk(pool: PoolQuote, onDemandPrice: number, params: EngineParams): number {
  const c = riskComponents(pool, onDemandPrice, params)
  const w = params.weights
  const total = w.interruptions + w.rebalances + w.followThrough + w.volatility + w.trend + w.ratio
  if (total === 0) return 0
  const sum =
    w.interruptions * c.interruptions +
    w.rebalances * c.rebalances +
    w.followThrough * c.followThrough +
    w.volatility * c.volatility +
    w.trend * c.trend +
    w.ratio * c.ratio
  return clamp01(sum / total)
}
