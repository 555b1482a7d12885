/**
 * Price history as a step function: a row only when a price changes, at most one per series per
 * 5 minutes, whoever reports it; the pool's freshness stamp is refreshed at most every 15 minutes.
 * Pure, so the rule is tested without a database.
 */

export const MIN_ROW_INTERVAL_MS = 5 * 60_000
export const FRESHNESS_REFRESH_MS = 15 * 60_000

/** The last stored state of a price series. */
export interface SeriesState {
  price: number | null
  changedAt: number | null
  reportedAt: number | null
}

export interface PricePlan {
  /** Append a change point at the receive time. */
  writeRow: boolean
  /** Update the series' current state (pool row). */
  touch: boolean
}

/** What to write for a price received at `now` (server time) given the series' last state. */
export function planPriceWrite(last: SeriesState | null, price: number, now: number): PricePlan {
  if (!last || last.price === null || last.changedAt === null) return { writeRow: true, touch: true }
  const changed = Math.abs(last.price - price) > 1e-9
  const writeRow = changed && now - last.changedAt >= MIN_ROW_INTERVAL_MS
  const stale = last.reportedAt === null || now - last.reportedAt >= FRESHNESS_REFRESH_MS
  return { writeRow, touch: writeRow || stale }
}
