/**
 * Versioned decision-engine parameters: JSON data validated here, never code.
 * A stored version may be partial; `resolveParams` fills the rest from DEFAULT_PARAMS.
 */
import * as z from 'zod'

/** Weights of the risk components (normalised by their sum; see risk.ts). */
export const RiskWeights = z.object({
  interruptions: z.number().min(0),
  rebalances: z.number().min(0),
  followThrough: z.number().min(0),
  volatility: z.number().min(0),
  trend: z.number().min(0),
  ratio: z.number().min(0),
  lifetime: z.number().min(0),
  capacity: z.number().min(0),
})
export type RiskWeights = z.infer<typeof RiskWeights>

export const EngineParams = z.object({
  weights: RiskWeights,
  /** Minimum price saving of a non-urgent switch, % of the current price. */
  min_savings_percent: z.number().min(0).max(100),
  /** A candidate riskier than this (0-1) is never chosen; a current pool above it makes a move urgent. */
  risk_threshold: z.number().min(0).max(1),
  max_switches_per_day: z.number().int().min(0).max(24),
  max_switches_per_week: z.number().int().min(0).max(168),
  /**
   * Switches of the rolling 7 d cap a non-urgent move between spot pools may not use: kept for leaving a
   * pool that turned risky and for coming back to spot (else a week's small moves can strand the
   * workload on on-demand until the window frees).
   */
  reserved_switches_per_week: z.number().int().min(0).max(168),
  /**
   * Switches of the rolling 24 h cap a non-urgent move between spot pools may use only when it is worth
   * more than the on-demand time it risks (guardrails.ts): else a day of small moves leaves an
   * interruption's failover on on-demand until the day's window frees.
   */
  reserved_switches_per_day: z.number().int().min(0).max(24),
  /** Minimum stay in a placement before a non-urgent switch; also amortises the switch cost. */
  min_pool_duration_hours: z.number().min(0),
  /**
   * How long a move is expected to hold, hours: the switch cost is amortised over the longest of this,
   * the minimum stay and 1 h (a lasting small saving pays for its switch; a brief one does not).
   */
  expected_stay_hours: z.number().min(0),
  /** No switch within this many minutes of the previous one, urgent or not. */
  cooldown_minutes: z.number().min(0),
  /** A target must beat the current placement's risk-adjusted cost by this % of the current price. */
  hysteresis_percent: z.number().min(0),
  /** Minutes both instances run during a switch (its cost). */
  switch_overlap_minutes: z.number().min(0),
  /** Risk penalty: risk (0-1) × this × on-demand price, USD/h. */
  risk_penalty: z.number().min(0),
  /** A pool price confirmed longer ago than this is stale: not a candidate. */
  price_fresh_minutes: z.number().positive(),
  /** A pool that interrupted one of our instances is skipped this long. */
  skip_after_interruption_minutes: z.number().min(0),
  /** A pool that answered a launch with a capacity error is skipped this long (Karpenter: 3). */
  skip_after_capacity_error_minutes: z.number().min(0),
  /** Interruptions in 30 days at which that risk component reaches 63 %. */
  interruptions_scale: z.number().positive(),
  /** Rebalance signals in 30 days at which that risk component reaches 63 %. */
  rebalances_scale: z.number().positive(),
  /** 24 h coefficient of variation at which the volatility component saturates. */
  volatility_scale: z.number().positive(),
  /** 1 h relative rise at which the trend component saturates. */
  trend_scale: z.number().positive(),
  /** Mean spot lifetime (hours) in a pool at which the lifetime component falls to 37 % (exp(−1)). */
  lifetime_scale_hours: z.number().positive(),
  /**
   * Weight (0-1) of a pool's 24 h mean price in the price the engine expects of it (the rest is the
   * current price): a low price that just appeared is not expected to last as long as a low level.
   */
  price_memory: z.number().min(0).max(1),
  /**
   * A current pool is left urgently only when its risk exceeds `risk_threshold` by this much; between
   * the two it is left only for a better value, within every guardrail.
   */
  urgent_risk_margin: z.number().min(0).max(1),
  /**
   * Switches are scarce (the rolling 7 d cap): a non-urgent move must beat the current placement by
   * this % of its price more for each switch already used in the window.
   */
  switch_scarcity_percent: z.number().min(0),
  /**
   * A move between spot pools saving at least this % of the current placement's expected price may
   * spend the week's reserved switches, down to the last: a gap that large is what the reserve is kept
   * for (a workload held in a pool at 60 % of on-demand while another is at 25 % is as badly placed as
   * one on on-demand).
   */
  reserve_bypass_savings_percent: z.number().min(0).max(100),
  /**
   * A non-urgent move between spot pools needs its target cheaper than the current pool in at least
   * this share (0-1) of the last 24 hours (hourly means): a gap of an hour or two in a volatile market
   * is more often a swing that reverses than a level, and the switch it spends is missing later.
   */
  gap_persistence_share: z.number().min(0).max(1),
  /** The flapping budget: after leaving spot this many times within `flap_window_hours`... */
  flap_max_spot_exits: z.number().int().min(1),
  /** ...the workload goes back to spot only once the older of those exits is this many hours old. */
  flap_window_hours: z.number().min(0),
})
export type EngineParams = z.infer<typeof EngineParams>

/** The defaults, tuned with `npm run backtest` (see README "Backtest"). */
export const DEFAULT_PARAMS: EngineParams = {
  weights: {
    interruptions: 0.2,
    rebalances: 0.05,
    followThrough: 0.05,
    volatility: 0.1,
    trend: 0.15,
    ratio: 0.5,
    lifetime: 0.1,
    // Evidence-only like lifetime (no weight without a score or a capacity error): a score of 1-2 alone
    // lifts an otherwise riskless pool above the default risk threshold.
    capacity: 0.6,
  },
  min_savings_percent: 8,
  risk_threshold: 0.5,
  max_switches_per_day: 3,
  max_switches_per_week: 10,
  reserved_switches_per_week: 2,
  reserved_switches_per_day: 1,
  min_pool_duration_hours: 2,
  expected_stay_hours: 24,
  cooldown_minutes: 30,
  hysteresis_percent: 5,
  switch_overlap_minutes: 10,
  risk_penalty: 0.15,
  price_fresh_minutes: 30,
  skip_after_interruption_minutes: 15,
  skip_after_capacity_error_minutes: 3,
  interruptions_scale: 10,
  rebalances_scale: 20,
  volatility_scale: 0.5,
  trend_scale: 0.5,
  lifetime_scale_hours: 168,
  price_memory: 0.6,
  urgent_risk_margin: 0.1,
  switch_scarcity_percent: 0,
  reserve_bypass_savings_percent: 50,
  gap_persistence_share: 0.05,
  flap_max_spot_exits: 2,
  flap_window_hours: 6,
}

/** What a stored version or a `--params` file may hold: any subset of the parameters. */
export const PartialParams = EngineParams.extend({ weights: RiskWeights.partial() }).partial().strict()
export type PartialParams = z.infer<typeof PartialParams>

/** Full parameters from a partial JSON value; throws a ZodError on bad input. */
export function resolveParams(value: unknown): EngineParams {
  const partial = PartialParams.parse(value ?? {})
  return EngineParams.parse({
    ...DEFAULT_PARAMS,
    ...partial,
    weights: { ...DEFAULT_PARAMS.weights, ...partial.weights },
  })
}

/** The per-agent thresholds a client may override. */
export interface Thresholds {
  min_savings_percent: number
  risk_threshold: number
  max_switches_per_day: number
  max_switches_per_week: number
  min_pool_duration_hours: number
}

/** An agent's overrides; null or undefined inherits the parameter version's value. */
export type ThresholdOverrides = { [K in keyof Thresholds]?: number | null }

/** The thresholds in force for one agent. */
export function effectiveThresholds(params: EngineParams, overrides: ThresholdOverrides = {}): Thresholds {
  return {
    min_savings_percent: overrides.min_savings_percent ?? params.min_savings_percent,
    risk_threshold: overrides.risk_threshold ?? params.risk_threshold,
    max_switches_per_day: overrides.max_switches_per_day ?? params.max_switches_per_day,
    max_switches_per_week: overrides.max_switches_per_week ?? params.max_switches_per_week,
    min_pool_duration_hours: overrides.min_pool_duration_hours ?? params.min_pool_duration_hours,
  }
}

/** A stored parameter version (version 0: DEFAULT_PARAMS, in effect while none was activated). */
export interface ParamsVersion {
  version: number
  params: EngineParams
}

export const DEFAULT_VERSION: ParamsVersion = { version: 0, params: DEFAULT_PARAMS }
