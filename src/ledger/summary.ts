/** Month-to-date, projected month, lifetime and % saved, from daily rollup rows. */
import { dayStart } from './rollup'

export interface DailyRow {
  /** `YYYY-MM-DD`, UTC. */
  day: string
  baseline: number
  primary: number
  replica: number
  overlap: number
  savings: number
  /** When usage began within the day, epoch ms, when known (live days); else the day's start counts. */
  firstUseAt?: number
}

export interface Totals {
  baseline: number
  cost: number
  savings: number
  /** savings / baseline × 100; 0 without a baseline. */
  percent_saved: number
}

export interface SavingsSummary {
  month_to_date: Totals
  /** Month-to-date extrapolated over the whole month from the rate since the month's first usage. */
  projected_month: Totals
  lifetime: Totals
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

/** Totals of rows. */
export function totals(rows: readonly DailyRow[], scale = 1): Totals {
  let baseline = 0
  let cost = 0
  for (const r of rows) {
    baseline += r.baseline
    cost += r.primary + r.replica + r.overlap
  }
  const savings = baseline - cost
  return {
    baseline: round(baseline * scale),
    cost: round(cost * scale),
    savings: round(savings * scale),
    percent_saved: baseline > 0 ? round((savings / baseline) * 100) : 0,
  }
}

/** Start and end (exclusive) of the UTC month containing `ms`. */
export function monthBounds(ms: number): [number, number] {
  const d = new Date(ms)
  return [
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  ]
}

export function summarize(rows: readonly DailyRow[], now: number): SavingsSummary {
  const [monthStart, monthEnd] = monthBounds(now)
  const month = rows.filter((r) => dayStart(r.day) >= monthStart && dayStart(r.day) < monthEnd)
  const firstUse = month.reduce((m, r) => Math.min(m, r.firstUseAt ?? dayStart(r.day)), now)
  const elapsed = now - firstUse
  const scale = elapsed > 0 ? (monthEnd - firstUse) / elapsed : 0
  return { month_to_date: totals(month), projected_month: totals(month, scale), lifetime: totals(rows) }
}
