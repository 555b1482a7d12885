/**
 * Whose price a client sees. A client's own quote drives its own decisions; other tenants' quotes
 * count only as a consensus: at least MIN_AGREEING distinct clients' shared quotes, their median, after
 * dropping quotes more than OUTLIER_FACTOR away from the median of all. A consensus, when there is one,
 * is everyone's price (the reporters' included); otherwise a client sees its own quote, else the
 * operator's (history no client reported: seeded or imported, `clientId` null), else none.
 * Pure: the one rule every reader of prices (engine, pages, ledger, switch pricing) goes through.
 */
import type { PricePoint } from '../ledger/series'

export const MIN_AGREEING = 3
export const OUTLIER_FACTOR = 2

/** One client's latest quote of a series. */
export interface Quote {
  /** null: the operator's data, which no client token can write. */
  clientId: string | null
  price: number
  /** The report may feed other tenants (auth/principal.ts feedsOtherTenants). */
  shared: boolean
}

export type Resolved = { price: number; source: 'own' | 'consensus' | 'operator' }

/** The price `clientId` sees among the latest quotes (one per client), or null. */
export function resolvePrice(quotes: readonly Quote[], clientId: string): Resolved | null {
  const consensus = consensusOf(quotes.filter((q) => q.shared).map((q) => q.price))
  if (consensus !== null) return { price: consensus, source: 'consensus' }
  const own = quotes.find((q) => q.clientId === clientId)
  if (own) return { price: own.price, source: 'own' }
  const operator = quotes.find((q) => q.clientId === null)
  return operator ? { price: operator.price, source: 'operator' } : null
}

/** The median of the quotes within OUTLIER_FACTOR of the median of all, when MIN_AGREEING remain. */
export function consensusOf(prices: readonly number[]): number | null {
  if (prices.length < MIN_AGREEING) return null
  const center = median(prices)
  const agreeing = prices.filter((p) => p * OUTLIER_FACTOR >= center && p <= center * OUTLIER_FACTOR)
  return agreeing.length < MIN_AGREEING ? null : median(agreeing)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One client's change points of a series, ascending by time, each with its report's `shared`. */
export interface ClientSeries {
  clientId: string | null
  points: readonly (PricePoint & { shared: boolean })[]
}

/**
 * The step function `clientId` sees, from every reporter's step function: at each change point of any
 * reporter, resolvePrice over each reporter's price in force then. Points where nothing resolves are
 * left out (the last resolved price carries on, as a step function does).
 */
export function resolveSeries(series: readonly ClientSeries[], clientId: string): PricePoint[] {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.at)))].sort((a, b) => a - b)
  const cursor = series.map(() => -1)
  const out: PricePoint[] = []
  for (const at of times) {
    const quotes: Quote[] = []
    series.forEach((s, k) => {
      while (cursor[k]! + 1 < s.points.length && s.points[cursor[k]! + 1]!.at <= at) cursor[k]!++
      const point = s.points[cursor[k]!]
      if (point) quotes.push({ clientId: s.clientId, price: point.price, shared: point.shared })
    })
    const resolved = resolvePrice(quotes, clientId)
    if (resolved && out.at(-1)?.price !== resolved.price) out.push({ at, price: resolved.price })
  }
  return out
}
