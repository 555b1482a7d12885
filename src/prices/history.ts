/**
 * A reporter's spot price history at EC2's own timestamps (the 5.x report's `spot_history`): which
 * points are accepted, and which of them change the price a client's series has in force then. Pure;
 * flows/price-history.ts stores what this keeps.
 */
import type { PricePoint } from '../ledger/series'

/** How far past the server's clock a point may lie (EC2's clock against ours), ms. */
export const HISTORY_SKEW_MS = 5 * 60_000
/**
 * How old a point may be, ms: twice the agent's lookback of an hour is room for a late report; older
 * news would rewrite history readers may have acted on long ago.
 */
export const HISTORY_MAX_AGE_MS = 2 * 3_600_000
/** Points kept per pool and report (the newest): a pool changes price a few times an hour at most. */
export const HISTORY_MAX_PER_POOL = 60

export type HistoryRefusal = 'in_future' | 'too_old' | 'not_reportable' | 'too_many'

/** Why a point stamped `at` is refused at server time `now`, or null when it is accepted. */
export function refusalAt(at: number, now: number): HistoryRefusal | null {
  if (at > now + HISTORY_SKEW_MS) return 'in_future'
  if (at < now - HISTORY_MAX_AGE_MS) return 'too_old'
  return null
}

/**
 * The points of one pool to store: each new point (in time order) that changes the price in force at
 * its time, over the stored series and the points already taken. `stored` is ascending and starts with
 * the point in force before the earliest new one, when there is one. A repeat, or a point another
 * reporter of the client already stored, adds nothing; a stored row at the very same time wins.
 */
export function newChangePoints(stored: readonly PricePoint[], points: readonly PricePoint[]): PricePoint[] {
  const series = [...stored]
  const taken: PricePoint[] = []
  for (const point of [...points].sort((a, b) => a.at - b.at)) {
    // The index of the last point at or before `point.at`.
    let k = series.length - 1
    while (k >= 0 && series[k]!.at > point.at) k--
    const inForce = series[k]
    if (inForce && (inForce.at === point.at || Math.abs(inForce.price - point.price) <= 1e-9)) continue
    series.splice(k + 1, 0, point)
    taken.push(point)
  }
  return taken
}

/** A history point as reported. */
export interface ReportedPoint {
  poolId: string
  at: number
  price: number
}

export interface IgnoredPoint {
  pool_id: string
  at: string
  reason: HistoryRefusal
}

/**
 * The accepted points of a report by pool, and the others with their reason: a pool outside what the
 * reporter may report (`isReportable`), a time out of bounds, a pool's points beyond the newest
 * HISTORY_MAX_PER_POOL.
 */
export function acceptHistory(
  points: readonly ReportedPoint[],
  isReportable: (poolId: string) => boolean,
  now: number,
): { byPool: Map<string, PricePoint[]>; ignored: IgnoredPoint[] } {
  const byPool = new Map<string, PricePoint[]>()
  const ignored: IgnoredPoint[] = []
  const refuse = (p: ReportedPoint, reason: HistoryRefusal) =>
    ignored.push({ pool_id: p.poolId, at: new Date(p.at).toISOString(), reason })
  for (const p of [...points].sort((a, b) => b.at - a.at)) {
    const reason = isReportable(p.poolId) ? refusalAt(p.at, now) : 'not_reportable'
    if (reason) {
      refuse(p, reason)
      continue
    }
    const kept = byPool.get(p.poolId) ?? []
    if (kept.length >= HISTORY_MAX_PER_POOL) refuse(p, 'too_many')
    else {
      kept.push({ at: p.at, price: p.price })
      byPool.set(p.poolId, kept)
    }
  }
  return { byPool, ignored }
}
