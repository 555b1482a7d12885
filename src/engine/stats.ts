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

/** Time-weighted mean price over [from, to); null without data. */
export function meanPrice(points: readonly PricePoint[], from: number, to: number): number | null {
  let weight = 0
  let sum = 0
  for (const p of pricedPieces(points, from, to, Number.POSITIVE_INFINITY)) {
    weight += p.to - p.from
    sum += (p.to - p.from) * p.price
  }
  return weight > 0 ? sum / weight : null
}

/** Relative change of the price from `now − windowMs` to `now` (0.1 = +10 %); 0 without data. */
export function trend(points: readonly PricePoint[], now: number, windowMs: number): number {
  const then = priceAt(points, now - windowMs)
  const current = priceAt(points, now)
  return then && current ? current / then - 1 : 0
}

/** A rebalance or interruption signal; `key` ties a rebalance to its notice (an instance, or a pool). */
export interface Signal {
  kind: 'rebalance' | 'notice'
  at: number
  key: string | null
}

/** Rebalances followed by a notice with the same key within `windowMs` (default 2 h). */
export function rebalancesFollowed(signals: readonly Signal[], windowMs = 2 * 3_600_000): number {
  const notices = signals.filter((s) => s.kind === 'notice')
  return signals.filter(
    (r) =>
      r.kind === 'rebalance' &&
      notices.some((n) => n.key === r.key && n.at >= r.at && n.at <= r.at + windowMs),
  ).length
}

/** Hours lived in a pool within a window, by how the lives ended (the lifetime fields of PoolQuote). */
export interface Lifetimes {
  livedHoursInterrupted30d: number
  livedHoursCensored30d: number
  livesInterrupted30d: number
}

/**
 * The lifetimes of one instance kept in a pool over [from, to] and relaunched after each interruption:
 * how the backtest reads a trace's fleet events, which carry no instances. `interruptions` are epoch ms;
 * only those within (from, to] count, so nothing after `to` is seen.
 */
export function relaunchedLifetimes(interruptions: readonly number[], from: number, to: number): Lifetimes {
  const seen = interruptions.filter((t) => t > from && t <= to)
  const last = seen.length > 0 ? Math.max(...seen) : from
  return {
    livedHoursInterrupted30d: (last - from) / 3_600_000,
    livedHoursCensored30d: Math.max(0, to - last) / 3_600_000,
    livesInterrupted30d: seen.length,
  }
}
