/**
 * How long price history is kept (product.md: full resolution 30 days, an hourly rollup a year) and how
 * much of it one hourly cron run may roll up or delete. Pure; flows/price-retention.ts runs it.
 */
import { SPOT_CARRY_CAP_MS } from '../ledger/cost'
import { HISTORY_MAX_AGE_MS, HISTORY_SKEW_MS } from './history'

export const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** `spot_prices` rows older than this are deleted once their hour is rolled up, ms. */
export const RAW_RETENTION_MS = 30 * DAY_MS
/** `spot_prices_hourly` rows older than this are deleted, ms. */
export const HOURLY_RETENTION_MS = 365 * DAY_MS
/**
 * An hour is rolled up only once no accepted report can add a point to it: a 5.x report's history
 * reaches HISTORY_MAX_AGE_MS back (prices/history.ts), and the server's clock may be behind EC2's.
 */
export const ROLLUP_LAG_MS = HISTORY_MAX_AGE_MS + HISTORY_SKEW_MS
/** Hours rolled up per run at most: a backlog (a first run over 30 days of history) is caught up over runs. */
export const MAX_HOURS_PER_RUN = 24
/** Hours rolled up per statement (an INSERT ... SELECT): an hourly run in step with the clock has one. */
export const HOURS_PER_STATEMENT = 6
/** Rollup rows written per run at most (checked after each statement): bounds a run over a large fleet. */
export const MAX_ROLLUP_ROWS_PER_RUN = 25_000
/** Rows deleted per table and run at most; the rest waits for the next run. */
export const MAX_DELETES_PER_RUN = 5_000
/** A step function's point older than this no longer gives the price (ledger/cost.ts): never needed. */
export const CARRY_CAP_MS = SPOT_CARRY_CAP_MS

/** The start of the hour holding `t`, epoch ms. */
export function hourOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS
}

/**
 * The hours a run rolls up, [from, to) in epoch ms: from `cursor` on, at most `maxHours` of the complete
 * hours that no report can change any more; null when there is none yet.
 */
export function hoursToRoll(
  cursor: number,
  now: number,
  maxHours = MAX_HOURS_PER_RUN,
): { from: number; to: number } | null {
  const from = hourOf(cursor)
  const to = Math.min(hourOf(now - ROLLUP_LAG_MS), from + maxHours * HOUR_MS)
  return to > from ? { from, to } : null
}

/**
 * Raw rows strictly before this are deleted: older than RAW_RETENTION_MS and already rolled up (a
 * rollup that fell behind holds the deletion back).
 */
export function rawCutoff(now: number, rolledUntil: number): number {
  return Math.min(now - RAW_RETENTION_MS, rolledUntil)
}
