/** Market statistics of a price step function, shared by the Worker's market reader. Pure. */
import { pricedPieces, priceAt, type PricePoint } from '../ledger/series'

/** Time-weighted coefficient of variation (std / mean) of the price over [from, to); 0 without data. */
export function volatility(points: readonly PricePoint[], from: number, to: number): number {
  const pieces = pricedPieces(points, from, to, Number.POSITIVE_INFINITY)
  let weight = 0
  let sum = 0
  let sumSq = 0
  for (const p of pieces) {
    const w = p.to - p.from
    weight += w
    sum += w * p.price
    sumSq += w * p.price * p.price
  }
  if (weight === 0) return 0
  const mean = sum / weight
  return mean > 0 ? Math.sqrt(Math.max(0, sumSq / weight - mean * mean)) / mean : 0
}

/** Relative change of the price from `now − windowMs` to `now` (0.1 = +10 %); 0 without data. */
export function trend(points: readonly PricePoint[], now: number, windowMs: number): number {
  const then = priceAt(points, now - windowMs)
  const current = priceAt(points, now)
  return then && current ? current / then - 1 : 0
}
