/** Guardrails: what stops an otherwise valuable move. Each returns the reasons, empty when the move may go. */
import { flappingUntil } from './back-to-spot'
import { gapHours, isGapBrief } from './gap-persistence'
import type { EngineParams, Thresholds } from './params'
import type { BlockReason, EngineInput, PoolQuote } from './types'

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS
export const WEEK_MS = 7 * DAY_MS

/** Switches in the rolling window (now − windowMs, now]. */
export function switchesWithin(times: readonly number[], now: number, windowMs: number): number {
  let n = 0
  for (const t of times) if (t > now - windowMs && t <= now) n++
  return n
}

/** Blocks that hold for any move, urgent or not: agent state, in-flight command, cooldown, caps. */
export function hardBlocks(input: EngineInput, params: EngineParams): BlockReason[] {
  const blocks: BlockReason[] = []
  const { now, agent, switchTimes, thresholds } = input
  if (!agent.online) blocks.push('agent_offline')
  if (agent.commandInFlight) blocks.push('command_in_flight')
  const last = switchTimes.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY)
  if (now - last < params.cooldown_minutes * 60_000) blocks.push('cooldown')
  if (switchesWithin(switchTimes, now, DAY_MS) >= thresholds.max_switches_per_day) blocks.push('daily_cap')
  if (switchesWithin(switchTimes, now, WEEK_MS) >= thresholds.max_switches_per_week) blocks.push('weekly_cap')
  return blocks
}

/** Blocks that an urgent move (current pool above the risk threshold) skips. */
export function comfortBlocks(
  input: EngineInput,
  params: EngineParams,
  move: {
    savingsPercent: number
    valuePerHour: number
    currentPrice: number
    betweenPools: boolean
    toSpot: boolean
    /** The target's quote (null: on-demand). */
    target: PoolQuote | null
    /** The current pool's quote (null: on-demand). */
    here: PoolQuote | null
  },
): BlockReason[] {
  const blocks: BlockReason[] = []
  const t: Thresholds = input.thresholds
  const { since, imposed } = input.current
  if (!imposed && input.now - since < t.min_pool_duration_hours * HOUR_MS) blocks.push('min_pool_duration')
  if (
    move.betweenPools &&
    (eatsReserve(input, params, move.savingsPercent) || spendsDailyReserve(input, params, move))
  )
    blocks.push('switch_reserve')
  if (
    move.betweenPools &&
    move.target &&
    move.here &&
    isGapBrief(gapHours(move.target, move.here), params.gap_persistence_share)
  )
    blocks.push('gap_not_lasting')
  if (move.savingsPercent < t.min_savings_percent) blocks.push('min_savings')
  if (move.valuePerHour < requiredValuePercent(input, params) * move.currentPrice) blocks.push('hysteresis')
  if (move.toSpot && flappingUntil(input, params) !== null) blocks.push('flapping_budget')
  return blocks
}

/**
 * The share of the current price a non-urgent move must be worth per hour: the hysteresis, plus the
 * scarcity of switches (each one already used in the rolling 7 d window raises the bar).
 */
function requiredValuePercent(input: EngineInput, params: EngineParams): number {
  const used = switchesWithin(input.switchTimes, input.now, WEEK_MS)
  return (params.hysteresis_percent + params.switch_scarcity_percent * used) / 100
}

/** Whether one more switch would leave fewer than the reserved switches in the rolling 7 d window. */
function leavesReserve(input: EngineInput, params: EngineParams): boolean {
  const used = switchesWithin(input.switchTimes, input.now, WEEK_MS)
  return used + 1 + params.reserved_switches_per_week > input.thresholds.max_switches_per_week
}

/**
 * Whether a move between spot pools would eat the week's reserved switches: one saving at least
 * `reserve_bypass_savings_percent` may spend them (that gap is what they are kept for).
 */
function eatsReserve(input: EngineInput, params: EngineParams, savingsPercent: number): boolean {
  return leavesReserve(input, params) && savingsPercent < params.reserve_bypass_savings_percent
}

/** The words of a move that spends the week's reserved switches on a large gap, or null when it does not. */
export function reserveSpentWords(
  input: EngineInput,
  params: EngineParams,
  savingsPercent: number,
): string | null {
  if (!leavesReserve(input, params) || eatsReserve(input, params, savingsPercent)) return null
  return (
    `spends the week's reserved switches: a ${savingsPercent.toFixed(1)} % saving ` +
    `(at least ${params.reserve_bypass_savings_percent} %)`
  )
}

/**
 * Whether a move would spend one of the last `reserved_switches_per_day` switches of the rolling 24 h cap
 * for less than it risks: should the target pool interrupt before that window frees, the workload waits
 * on on-demand (the way back needs a switch). The risk per hour: the chance of an interruption there
 * before then (its rate over 30 d) times half the gap between on-demand and its price.
 */
function spendsDailyReserve(
  input: EngineInput,
  params: EngineParams,
  move: { valuePerHour: number; target: PoolQuote | null },
): boolean {
  const { switchTimes, now, thresholds } = input
  const today = switchTimes.filter((t) => t > now - DAY_MS && t <= now)
  if (!move.target || today.length + 1 + params.reserved_switches_per_day <= thresholds.max_switches_per_day)
    return false
  const freesInHours = (Math.min(now, ...today) + DAY_MS - now) / HOUR_MS
  // a pool's own short history proves little: the region's mean rate is the floor of its rate
  const regionMean = input.pools.reduce((n, p) => n + p.interruptions30d, 0) / Math.max(1, input.pools.length)
  const perHour = Math.max(move.target.interruptions30d, regionMean) / (30 * 24)
  const chance = 1 - Math.exp(-perHour * freesInHours)
  return move.valuePerHour < (chance * (input.onDemandPrice - move.target.price)) / 2
}
