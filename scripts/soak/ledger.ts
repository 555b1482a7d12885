/**
 * Invariant (e): per workload, the ledger's cost (its usage segments priced from D1's price history, by
 * the ledger's own functions) within 1 % of what EC2 charged for every instance of the workload
 * (replicas and overlaps included), and its baseline within 1 % of the workload's running time × the
 * on-demand price. Compared from the moment the control plane could price the workload (its first
 * registration, its pool's first spot price and the first on-demand price: at 80× the first price report
 * lands a simulated minute or two after registering, seconds in real time) to LEDGER_LAG_MS before the
 * check (time for late reports and the 5-minute segment sync to land); judged once that window spans
 * MIN_LEDGER_WINDOW_MS and at the end: over a shorter one, prices installed agents report (stored at
 * receive time, up to a report interval after EC2's change; 5.x reporters send EC2's change points) and
 * a replica's pending seconds (its segment starts at the launch report, EC2 bills from `running`) weigh
 * more than 1 % without any error in the ledger's accounting.
 */
import { savingsBetween } from '../../src/ledger/rollup'
import type { PriceBook } from '../../src/ledger/cost'
import type { PricePoint } from '../../src/ledger/series'
import type { Divergence } from './invariants'
import type { D1Snapshot, Ec2Snapshot } from './snapshot'

export const LEDGER_LAG_MS = 10 * 60_000
export const MIN_LEDGER_WINDOW_MS = 4 * 3_600_000
/** The tolerance of (e), percent. */
export const LEDGER_TOLERANCE_PCT = 1

export interface LedgerLine {
  workload: string
  /** Length of the window compared, simulated hours. */
  windowHours: number
  /** USD */
  ledgerCost: number
  billed: number
  ledgerBaseline: number
  /** Running time of the workload (any instance) × on-demand, USD. */
  expectedBaseline: number
  /** The larger of the two relative errors, percent. */
  errorPct: number
}

/** The window the ledger is compared over: [when it could first be priced, the check − LEDGER_LAG_MS). */
export function ledgerWindow(pricedFrom: number, at: number): [number, number] {
  return [pricedFrom, at - LEDGER_LAG_MS]
}

/** Per workload, when the control plane could first price it (see the top of this file). */
export function pricedFrom(d1: D1Snapshot): Map<string, number> {
  const starts = new Map<string, number>()
  const firstOnDemand = Math.min(...d1.onDemandPrices.map((p) => p.at))
  for (const agent of d1.agents) {
    const first = d1.segments
      .filter((s) => s.agentId === agent.id)
      .sort((a, b) => a.startedAt - b.startedAt)[0]
    const firstSpot = Math.min(...d1.spotPrices.filter((p) => p.poolId === first?.poolId).map((p) => p.at))
    const from = Math.max(
      agent.createdAt,
      firstOnDemand,
      first?.mode === 'spot' ? firstSpot : Number.NEGATIVE_INFINITY,
    )
    if (Number.isFinite(from)) starts.set(agent.logicalAgentId, from)
  }
  return starts
}

/** One line per workload whose window is not empty; `ec2.instances[].billed` must cover ledgerWindow. */
export function compareLedger(ec2: Ec2Snapshot, d1: D1Snapshot): LedgerLine[] {
  const book = priceBook(d1)
  const starts = pricedFrom(d1)
  const lines: LedgerLine[] = []
  for (const agent of d1.agents) {
    const start = starts.get(agent.logicalAgentId)
    if (start === undefined) continue
    const [from, to] = ledgerWindow(start, ec2.at)
    if (to <= from) continue
    const mine = ec2.instances.filter((i) => i.workload === agent.logicalAgentId)
    const segments = d1.segments.filter((s) => s.agentId === agent.id)
    const ledger = savingsBetween(segments, book, from, to, to)
    const ledgerCost = ledger.primary + ledger.replica + ledger.overlap
    const billed = mine.reduce((sum, i) => sum + i.billed, 0)
    const expectedBaseline =
      (unionMs(
        mine.flatMap((i) => i.runningPeriods),
        from,
        to,
      ) /
        3_600_000) *
      ec2.onDemandPrice
    lines.push({
      workload: agent.logicalAgentId,
      windowHours: (to - from) / 3_600_000,
      ledgerCost,
      billed,
      ledgerBaseline: ledger.baseline,
      expectedBaseline,
      errorPct: Math.max(
        relativeErrorPct(ledgerCost, billed),
        relativeErrorPct(ledger.baseline, expectedBaseline),
      ),
    })
  }
  return lines
}

/** Divergences (e): lines beyond the tolerance, once their window is long enough (always at the end). */
export function ledgerDivergences(lines: readonly LedgerLine[], at: number, isFinal: boolean): Divergence[] {
  return lines
    .filter(
      (l) =>
        l.errorPct > LEDGER_TOLERANCE_PCT && (isFinal || l.windowHours * 3_600_000 >= MIN_LEDGER_WINDOW_MS),
    )
    .map((l) => ({
      at,
      invariant: 'e' as const,
      workload: l.workload,
      subject: 'ledger',
      ec2: `billed $${l.billed.toFixed(6)}, running time × on-demand $${l.expectedBaseline.toFixed(6)} over ${l.windowHours.toFixed(1)} h`,
      d1: `ledger cost $${l.ledgerCost.toFixed(6)}, baseline $${l.ledgerBaseline.toFixed(6)} (${l.errorPct.toFixed(2)} % off)`,
    }))
}

export function relativeErrorPct(value: number, truth: number): number {
  if (truth === 0) return value === 0 ? 0 : 100
  return (Math.abs(value - truth) / truth) * 100
}

/** Length of the union of the periods within [from, to), ms. */
export function unionMs(periods: ReadonlyArray<readonly [number, number]>, from: number, to: number): number {
  const clipped = periods
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  let total = 0
  let end = Number.NEGATIVE_INFINITY
  for (const [a, b] of clipped) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return total
}

function priceBook(d1: D1Snapshot): PriceBook {
  const spot = seriesBy(d1.spotPrices, (p) => p.poolId)
  const onDemand = seriesBy(d1.onDemandPrices, (p) => `${p.instanceType}|${p.region}`)
  return {
    spot: (poolId) => spot.get(poolId) ?? [],
    onDemand: (type, region) => onDemand.get(`${type}|${region}`) ?? [],
  }
}

/** Price points grouped by key, each series sorted by time. */
function seriesBy<T extends PricePoint>(
  points: readonly T[],
  keyOf: (p: T) => string,
): Map<string, PricePoint[]> {
  const series = new Map<string, PricePoint[]>()
  for (const p of [...points].sort((a, b) => a.at - b.at)) {
    const key = keyOf(p)
    if (!series.has(key)) series.set(key, [])
    series.get(key)!.push({ at: p.at, price: p.price })
  }
  return series
}
