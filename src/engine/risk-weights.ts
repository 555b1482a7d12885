/**
 * A client's own risk weights (product.md: "documented weights, tunable per client"): any of the eight
 * components of risk.ts, each 0-1; a component the client did not set inherits the parameter version's
 * weight. Pure; the engine reads them only through the parameters it is given (`withRiskWeights`).
 */
import * as z from 'zod'
import type { EngineParams, ParamsVersion, RiskWeights } from './params'

/** The largest weight a client may give a component (the defaults sum to about 1). */
export const MAX_CLIENT_WEIGHT = 1

const Weight = z.number().min(0).max(MAX_CLIENT_WEIGHT)

/** What a client set: each component's weight, absent where it inherits. Stored as JSON. */
export const RiskWeightOverrides = z
  .object({
    interruptions: Weight,
    rebalances: Weight,
    followThrough: Weight,
    volatility: Weight,
    trend: Weight,
    ratio: Weight,
    lifetime: Weight,
    capacity: Weight,
  })
  .partial()
  .strict()
export type RiskWeightOverrides = z.infer<typeof RiskWeightOverrides>

export const RISK_COMPONENTS = Object.keys(RiskWeightOverrides.shape) as (keyof RiskWeights)[]

/** The weights in force: the version's, each replaced where the client set it. */
export function effectiveWeights(base: RiskWeights, overrides: RiskWeightOverrides): RiskWeights {
  return { ...base, ...overrides }
}

/** Components that weigh only where a pool has their evidence (risk.ts): they alone do not suffice. */
const EVIDENCE_ONLY: readonly (keyof RiskWeights)[] = ['lifetime', 'capacity']

/**
 * Why these weights can't be used, or null: all zero would make every pool riskless (the lifetime and
 * capacity weights count only where a pool has their data, so they do not suffice).
 */
export function unusableWeights(weights: RiskWeights): string | null {
  return RISK_COMPONENTS.some((k) => !EVIDENCE_ONLY.includes(k) && weights[k] > 0)
    ? null
    : 'at least one risk weight other than lifetime and capacity must be above 0: with none, every pool would look riskless'
}

/** Parameters whose risk uses the client's weights. */
export function withRiskWeights(params: EngineParams, overrides: RiskWeightOverrides): EngineParams {
  if (Object.keys(overrides).length === 0) return params
  return { ...params, weights: effectiveWeights(params.weights, overrides) }
}

/** A parameter version as the client's engine run uses it (same version number). */
export function versionWithRiskWeights(
  version: ParamsVersion,
  overrides: RiskWeightOverrides,
): ParamsVersion {
  return { version: version.version, params: withRiskWeights(version.params, overrides) }
}
