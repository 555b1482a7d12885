/**
 * How long a gap between two spot pools has lasted: in how many of the last 24 hours (hourly mean
 * prices) the target was cheaper than the current pool. A non-urgent move between pools needs the gap
 * in at least `gap_persistence_share` of the hours both were priced (guardrails.ts): in a market of
 * 25 % daily volatility most gaps of 10-15 % reverse within hours, and a week's switches spent on them
 * are missing when a lasting one opens (the backtest's volatile seed 17).
 */
import type { PoolQuote } from './types'

/** Hours of the last 24 in which both pools had a price, and in how many of them `target` was cheaper. */
export interface GapHours {
  cheaper: number
  known: number
}

/** The gap's hours, or null when either pool's hourly prices are not known. */
export function gapHours(target: PoolQuote, current: PoolQuote): GapHours | null {
  const [to, from] = [target.hourly24h, current.hourly24h]
  if (!to || !from) return null
  let cheaper = 0
  let known = 0
  for (let h = 0; h < Math.min(to.length, from.length); h++) {
    const [a, b] = [to[h], from[h]]
    if (a === null || a === undefined || b === null || b === undefined) continue
    known++
    if (a < b) cheaper++
  }
  return { cheaper, known }
}

/** Whether the gap lasted too briefly to spend a switch on (false without hourly prices: no evidence). */
export function isGapBrief(gap: GapHours | null, share: number): boolean {
  return gap !== null && gap.known > 0 && gap.cheaper < share * gap.known
}

/** The gap's evidence in words, for a decision's reasons. */
export function describeGap(gap: GapHours, target: PoolQuote, current: PoolQuote): string {
  return `pool ${target.poolId} was cheaper than pool ${current.poolId} in ${gap.cheaper} of the last ${gap.known} h`
}
