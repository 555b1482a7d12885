/**
 * Cost of usage segments and of the on-demand baseline, from the price history.
 * Spot time without a known price (a gap longer than the carry-forward cap) is charged at on-demand,
 * so that missing data never inflates savings; it is reported as `unpriced_ms`.
 */
import { integrate, type PricePoint } from './series'

export type Role = 'primary' | 'replica' | 'overlap'

/** A usage segment; `endedAt` null while open. Times are server receive times, epoch ms. */
export interface Segment {
  instanceId: string
  role: Role
  mode: 'spot' | 'ondemand' | 'unknown'
  poolId: string | null
  instanceType: string
  region: string
  startedAt: number
  endedAt: number | null
  /**
   * The type whose on-demand price is the baseline: the workload's base type (the type it started on),
   * whatever type this segment runs; absent or null: the segment's own.
   */
  baselineType?: string | null
}

/** The on-demand type a segment's time is measured against. */
export function baselineTypeOf(seg: Segment): string {
  return seg.baselineType ?? seg.instanceType
}

/** Price histories the ledger reads. */
export interface PriceBook {
  spot(poolId: string): readonly PricePoint[]
  onDemand(instanceType: string, region: string): readonly PricePoint[]
}

/** Spot prices are change points: AWS may publish none for days in a quiet pool. */
export const SPOT_CARRY_CAP_MS = 7 * 24 * 3_600_000
/** On-demand prices change a few times a year: carried forward without limit. */
export const ONDEMAND_CARRY_CAP_MS = Number.POSITIVE_INFINITY

export interface Cost {
  cost: number
  unpricedMs: number
}

/** The segment's time inside [from, to), an open segment ending at `now`. */
export function clip(seg: Segment, from: number, to: number, now: number): [number, number] | null {
  const start = Math.max(seg.startedAt, from)
  const end = Math.min(seg.endedAt ?? now, to, now)
  return end > start ? [start, end] : null
}

/** On-demand cost of [from, to) for a type and region; unknown on-demand time is unpriced, cost 0. */
export function onDemandCost(book: PriceBook, type: string, region: string, from: number, to: number): Cost {
  const { cost, uncovered } = integrate(book.onDemand(type, region), from, to, ONDEMAND_CARRY_CAP_MS)
  return { cost, unpricedMs: uncovered.reduce((s, [a, b]) => s + b - a, 0) }
}

/** Cost of one segment within [from, to). */
export function segmentCost(seg: Segment, book: PriceBook, from: number, to: number, now: number): Cost {
  const span = clip(seg, from, to, now)
  if (!span) return { cost: 0, unpricedMs: 0 }
  if (seg.mode !== 'spot' || seg.poolId === null)
    return onDemandCost(book, seg.instanceType, seg.region, ...span)
  const spot = integrate(book.spot(seg.poolId), span[0], span[1], SPOT_CARRY_CAP_MS)
  let cost = spot.cost
  let unpricedMs = 0
  for (const [a, b] of spot.uncovered) {
    cost += onDemandCost(book, seg.instanceType, seg.region, a, b).cost
    unpricedMs += b - a
  }
  return { cost, unpricedMs }
}

/**
 * Baseline of one agent within [from, to): on-demand over the union of its segments' time, counted
 * once whatever runs, at the on-demand price of the primary's base type (else of any running segment).
 */
export function baselineCost(
  segments: readonly Segment[],
  book: PriceBook,
  from: number,
  to: number,
  now: number,
): Cost {
  const spans = segments.flatMap((s) => {
    const span = clip(s, from, to, now)
    return span ? [{ seg: s, start: span[0], end: span[1] }] : []
  })
  const bounds = [...new Set(spans.flatMap((s) => [s.start, s.end]))].sort((a, b) => a - b)
  const total: Cost = { cost: 0, unpricedMs: 0 }
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i]!, bounds[i + 1]!]
    const running = spans.filter((s) => s.start <= a && s.end >= b)
    const lead = running.find((s) => s.seg.role === 'primary') ?? running[0]
    if (!lead) continue
    const c = onDemandCost(book, baselineTypeOf(lead.seg), lead.seg.region, a, b)
    total.cost += c.cost
    total.unpricedMs += c.unpricedMs
  }
  return total
}
