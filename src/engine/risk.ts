/**
 * Risk of a spot pool, 0 (safe) to 1: a weighted mean of eight components, each mapped to 0-1.
 * - interruptions: 1 − exp(−n / interruptions_scale), n = notices in 30 days (engine/weigh-signals.ts)
 * - rebalances:    1 − exp(−n / rebalances_scale), n = rebalance signals in 30 days
 * - followThrough: share of those rebalances followed by a notice within 2 h (0 without rebalances)
 * - volatility:    24 h coefficient of variation / volatility_scale, capped at 1
 * - trend:         1 h relative rise / trend_scale, 0 for a falling price, capped at 1
 * - ratio:         (spot / on-demand − 0.3) / 0.6, clamped: AWS reclaims more as the price nears on-demand
 * - lifetime:      exp(−mean lifetime / lifetime_scale_hours); the mean is the censored-exponential
 *                  estimate (hours lived / lives ended by interruption), so an instance still running
 *                  counts as evidence of survival, not of death. A pool where none of the fleet's
 *                  instances lived has no estimate: the component then carries no weight, and the
 *                  pool's risk is exactly what the other components say.
 * - capacity:      a low spot placement score of the pool's AZ and capacity errors on launch there
 *                  (capacity.ts); weighted only as far as that evidence counts (none: no weight, a
 *                  score fading after 12 h: less), so without it the risk is the history's alone.
 *                  With it, the risk is at least weight × value (a score of 1 at the default 0.6: 0.6).
 * On-demand has risk 0.
 */
import { capacityEvidence } from './capacity'
import type { EngineParams } from './params'
import type { PoolQuote } from './types'

export interface RiskComponents {
  interruptions: number
  rebalances: number
  followThrough: number
  volatility: number
  trend: number
  ratio: number
  lifetime: number
  capacity: number
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1)

/**
 * Mean lifetime of a spot instance in the pool, hours: the maximum-likelihood estimate for exponential
 * lifetimes with censoring (all hours lived over the lives that ended by interruption). Infinity when
 * none was interrupted; null when no hours were observed (no data).
 */
export function meanLifetimeHours(pool: PoolQuote): number | null {
  const hours = Math.max(0, pool.livedHoursInterrupted30d) + Math.max(0, pool.livedHoursCensored30d)
  if (!(hours > 0)) return null
  return pool.livesInterrupted30d > 0 ? hours / pool.livesInterrupted30d : Number.POSITIVE_INFINITY
}

/** Each component of a pool's risk, 0-1 (lifetime is 0 without data; its weight is 0 then too). */
export function riskComponents(pool: PoolQuote, onDemandPrice: number, params: EngineParams): RiskComponents {
  const mean = meanLifetimeHours(pool)
  return {
    interruptions: 1 - Math.exp(-pool.interruptions30d / params.interruptions_scale),
    rebalances: 1 - Math.exp(-pool.rebalances30d / params.rebalances_scale),
    followThrough: pool.rebalances30d > 0 ? clamp01(pool.rebalancesFollowed30d / pool.rebalances30d) : 0,
    volatility: clamp01(pool.volatility24h / params.volatility_scale),
    trend: clamp01(pool.trend1h / params.trend_scale),
    ratio: clamp01((pool.price / onDemandPrice - 0.3) / 0.6),
    lifetime: mean === null ? 0 : Math.exp(-mean / params.lifetime_scale_hours),
    capacity: capacityEvidence(pool)?.value ?? 0,
  }
}

/** The pool's risk: components weighted by `params.weights` (normalised by the sum of those in effect). */
export function poolRisk(pool: PoolQuote, onDemandPrice: number, params: EngineParams): number {
  const c = riskComponents(pool, onDemandPrice, params)
  const w = {
    ...params.weights,
    lifetime: meanLifetimeHours(pool) === null ? 0 : params.weights.lifetime,
    capacity: params.weights.capacity * (capacityEvidence(pool)?.strength ?? 0),
  }
  const keys = Object.keys(c) as (keyof RiskComponents)[]
  const total = keys.reduce((t, k) => t + w[k], 0)
  if (total === 0) return 0
  const sum = keys.reduce((t, k) => t + w[k] * c[k], 0)
  // A pool without capacity is a trap however calm its history: capacity evidence is also a floor (its
  // weighted value), which a mean over eight components would dilute below any useful threshold.
  return clamp01(Math.max(sum / total, w.capacity * c.capacity))
}

/** The pool's lifetime evidence in words, for a decision's reasons; null without data. */
export function describeLifetime(pool: PoolQuote): string | null {
  const mean = meanLifetimeHours(pool)
  if (mean === null) return null
  const hours = pool.livedHoursInterrupted30d + pool.livedHoursCensored30d
  const lived = `${hours.toFixed(1)} h lived in 30 d`
  return Number.isFinite(mean)
    ? `mean spot lifetime ${mean.toFixed(1)} h (${pool.livesInterrupted30d} interrupted, ${lived})`
    : `no interruption in ${lived}`
}
