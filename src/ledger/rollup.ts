/** Savings of one agent over a span of time, and its split into UTC days. */
import { baselineCost, segmentCost, type PriceBook, type Segment } from './cost'

export const DAY_MS = 86_400_000

/** Days the rollup job recomputes each run, today included (the days before are final). */
export const ROLLUP_DAYS = 3

/** Costs of a span in USD; savings = baseline − (primary + replica + overlap). */
export interface Savings {
  baseline: number
  primary: number
  replica: number
  overlap: number
  savings: number
  unpricedMs: number
}

/** `YYYY-MM-DD` of a time, UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** Epoch ms of the start of a UTC day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`)
}

/** Savings of an agent's segments within [from, to); open segments end at `now`. */
export function savingsBetween(
  segments: readonly Segment[],
  book: PriceBook,
  from: number,
  to: number,
  now: number,
): Savings {
  const base = baselineCost(segments, book, from, to, now)
  const result: Savings = {
    baseline: base.cost,
    primary: 0,
    replica: 0,
    overlap: 0,
    savings: 0,
    unpricedMs: 0,
  }
  for (const seg of segments) {
    const c = segmentCost(seg, book, from, to, now)
    result[seg.role] += c.cost
    result.unpricedMs += c.unpricedMs
  }
  result.savings = result.baseline - (result.primary + result.replica + result.overlap)
  return result
}

/** One row per UTC day from `fromDay` through the day of `now`, for days with any usage. */
export function dailySavings(
  segments: readonly Segment[],
  book: PriceBook,
  fromDay: string,
  now: number,
): Array<Savings & { day: string }> {
  const rows: Array<Savings & { day: string }> = []
  for (let start = dayStart(fromDay); start <= now; start += DAY_MS) {
    const s = savingsBetween(segments, book, start, start + DAY_MS, now)
    if (s.baseline > 0 || s.primary + s.replica + s.overlap > 0) rows.push({ ...s, day: utcDay(start) })
  }
  return rows
}
