/**
 * The fake's spot capacity: how many more spot instances each pool (instance type, AZ) can launch now.
 * A pool nobody set has plenty. RunInstances of spot beyond it fails with InsufficientInstanceCapacity,
 * and GetSpotPlacementScores derives its scores from it (never from what agents report), so scores move
 * wherever a test or the simulated market moves the capacity.
 */
import { Ec2Error, defaultMessage } from './errors'
import type { Ec2State } from './model'

/** Spare capacity of a pool nobody set: far more than any test launches. */
export const PLENTY = 1_000

/** Spare capacity at which a configuration scores 10: this many times its target capacity. */
const FULL_SCORE_RATIO = 20

/** AWS: "If you specify one or two instance types, … the returned placement score will always be low." */
export const MIN_DIVERSIFIED_TYPES = 3
const UNDIVERSIFIED_MAX_SCORE = 3

/** AWS allows this many distinct configurations per account in a rolling 24 h. */
export const MAX_CONFIGURATIONS_PER_DAY = 10
const DAY_MS = 24 * 3_600_000

export function poolKey(instanceType: string, az: string): string {
  return `${instanceType}|${az}`
}

/** Spot instances the pool can still launch at the fake's now. */
export function spareCapacity(state: Ec2State, instanceType: string, az: string): number {
  // The simulated market's on/off model (scripts/fleet/region.ts) empties a pool as a whole.
  if (state.spotCapacityModel && !state.spotCapacityModel(instanceType, az, state.clock.now())) return 0
  return Math.max(0, state.spareCapacity.get(poolKey(instanceType, az)) ?? PLENTY)
}

/** Throws what EC2 answers a spot launch of `count` instances into a pool without that capacity. */
export function requireSpotCapacity(state: Ec2State, instanceType: string, az: string, count: number): void {
  if (spareCapacity(state, instanceType, az) < count)
    throw new Ec2Error('InsufficientInstanceCapacity', defaultMessage('InsufficientInstanceCapacity'))
}

/**
 * The 1-10 score of launching `target` instances of any of `types` where `spare` of them are left:
 * 1 without room for the target, 10 from FULL_SCORE_RATIO × target on; capped low when fewer than
 * MIN_DIVERSIFIED_TYPES distinct types were asked about, as on AWS.
 */
export function scoreOf(spare: number, target: number, distinctTypes: number): number {
  const score = spare < target ? 1 : 1 + Math.floor(9 * Math.min(1, spare / (target * FULL_SCORE_RATIO)))
  return distinctTypes < MIN_DIVERSIFIED_TYPES ? Math.min(score, UNDIVERSIFIED_MAX_SCORE) : score
}

/**
 * Counts a configuration against the account's daily allowance: one asked in the last 24 h may be
 * asked again; a new one beyond MAX_CONFIGURATIONS_PER_DAY is refused with `MaxConfigLimitExceeded`.
 */
export function useConfiguration(state: Ec2State, fingerprint: string): void {
  const now = state.clock.now()
  for (const [key, firstAt] of state.placementConfigs)
    if (now - firstAt >= DAY_MS) state.placementConfigs.delete(key)
  if (state.placementConfigs.has(fingerprint)) return
  if (state.placementConfigs.size >= MAX_CONFIGURATIONS_PER_DAY) {
    throw new Ec2Error(
      'MaxConfigLimitExceeded',
      `You've exceeded your maximum allowed Spot placement configurations (${MAX_CONFIGURATIONS_PER_DAY} in 24 hours). You can retry configurations that you used within the last 24 hours, or wait for 24 hours before specifying a new configuration.`,
    )
  }
  state.placementConfigs.set(fingerprint, now)
}
