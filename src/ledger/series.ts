/**
 * Prices as step functions: each point holds from its `at` until the next point, but never longer than
 * a carry-forward cap (beyond it the price is unknown). Times epoch ms, prices USD/h.
 */

export interface PricePoint {
  at: number
  price: number
}

/** A piece of time with a known price. */
export interface PricedPiece {
  from: number
  to: number
  price: number
}

/** The pieces of [from, to) covered by `points` (sorted by `at`), each clipped to the cap. */
export function pricedPieces(
  points: readonly PricePoint[],
  from: number,
  to: number,
  capMs: number,
): PricedPiece[] {
  const pieces: PricedPiece[] = []
  if (to <= from) return pieces
  const first = Math.max(0, lastIndexAtOrBefore(points, from))
  for (let i = first; i < points.length; i++) {
    const p = points[i]!
    if (p.at >= to) break
    const next = points[i + 1]?.at ?? Number.POSITIVE_INFINITY
    const start = Math.max(from, p.at)
    const end = Math.min(to, next, p.at + capMs)
    if (end > start) pieces.push({ from: start, to: end, price: p.price })
  }
  return pieces
}

/** The price in force at `t`, or null when none is known within the cap. */
export function priceAt(
  points: readonly PricePoint[],
  t: number,
  capMs = Number.POSITIVE_INFINITY,
): number | null {
  const i = lastIndexAtOrBefore(points, t)
  if (i < 0) return null
  const p = points[i]!
  return t - p.at < capMs ? p.price : null
}

/** ∫ price dt over [from, to) in USD, and the milliseconds without a known price. */
export function integrate(
  points: readonly PricePoint[],
  from: number,
  to: number,
  capMs: number,
): { cost: number; uncovered: Array<[number, number]> } {
  let cost = 0
  const uncovered: Array<[number, number]> = []
  let cursor = from
  for (const piece of pricedPieces(points, from, to, capMs)) {
    if (piece.from > cursor) uncovered.push([cursor, piece.from])
    cost += (piece.price * (piece.to - piece.from)) / 3_600_000
    cursor = piece.to
  }
  if (to > cursor) uncovered.push([cursor, to])
  return { cost, uncovered }
}

/** Index of the last point with `at <= t`, or -1 (binary search; points sorted by `at`). */
function lastIndexAtOrBefore(points: readonly PricePoint[], t: number): number {
  let lo = 0
  let hi = points.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (points[mid]!.at <= t) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}
