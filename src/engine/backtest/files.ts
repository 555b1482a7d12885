/**
 * The backtest's input files.
 * Prices: the text output of `aws ec2 describe-spot-price-history --output text`, one change point a line:
 *   SPOTPRICEHISTORY <tab> <az> <tab> <instance type> <tab> <product description> <tab> <price> <tab> <ISO time>
 * Events (optional, ours): `<interruption|rebalance> <tab> <az> <tab> <ISO time>`, `#` starts a comment.
 */
import { stepSeries, type Trace, type TraceEvent } from './trace'

export interface PriceRow {
  az: string
  instanceType: string
  product: string
  price: number
  at: number
}

const PRICE_LINE = /^SPOTPRICEHISTORY\s+(\S+)\s+(\S+)\s+(.+?)\s+(\d+(?:\.\d+)?)\s+(\S+)\s*$/

/** Rows of a price file; other lines (NEXTTOKEN, blanks) are ignored, malformed price lines throw. */
export function parsePriceFile(text: string): PriceRow[] {
  const rows: PriceRow[] = []
  text.split(/\r?\n/).forEach((line, n) => {
    if (!line.startsWith('SPOTPRICEHISTORY')) return
    const m = PRICE_LINE.exec(line)
    const at = m ? Date.parse(m[5]!) : Number.NaN
    if (!m || Number.isNaN(at))
      throw new Error(`price file line ${n + 1}: not a SPOTPRICEHISTORY row: ${line}`)
    rows.push({ az: m[1]!, instanceType: m[2]!, product: m[3]!, price: Number(m[4]), at })
  })
  return rows
}

/** Events of an events file. */
export function parseEventsFile(text: string): TraceEvent[] {
  const events: TraceEvent[] = []
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') return
    const [kind, az, time] = line.split(/\s+/)
    const at = Date.parse(time ?? '')
    if ((kind !== 'interruption' && kind !== 'rebalance') || !az || Number.isNaN(at)) {
      throw new Error(`events file line ${n + 1}: expected "<interruption|rebalance> <az> <ISO time>"`)
    }
    events.push({ kind, az, at })
  })
  return events.sort((a, b) => a.at - b.at)
}

/**
 * A trace from price rows: the first instance type found, `Linux/UNIX` rows (else `Linux/UNIX (Amazon VPC)`),
 * resampled as a step function onto a grid from the first change point to the last.
 */
export function traceFromPrices(
  rows: PriceRow[],
  onDemand: number,
  events: TraceEvent[] = [],
  stepMs = 300_000,
): Trace {
  const type = rows[0]?.instanceType
  if (!type) throw new Error('price file has no SPOTPRICEHISTORY rows')
  const ofType = rows.filter((r) => r.instanceType === type)
  const plain = ofType.filter((r) => r.product === 'Linux/UNIX')
  const chosen = plain.length > 0 ? plain : ofType.filter((r) => r.product === 'Linux/UNIX (Amazon VPC)')
  if (chosen.length === 0) throw new Error(`no Linux/UNIX prices for ${type}`)
  chosen.sort((a, b) => a.at - b.at)
  const start = Math.floor(chosen[0]!.at / stepMs) * stepMs
  const steps = Math.floor((chosen[chosen.length - 1]!.at - start) / stepMs) + 1
  const azs = [...new Set(chosen.map((r) => r.az))].sort()
  const prices = azs.map((az) =>
    stepSeries(
      chosen.filter((r) => r.az === az),
      start,
      steps,
      stepMs,
    ),
  )
  return {
    start,
    stepMs,
    steps,
    onDemand,
    instanceType: type,
    pools: azs.map((az) => ({ poolId: `${type}.${az}`, az })),
    prices,
    events: events.filter((e) => azs.includes(e.az)),
  }
}

/** A trace's prices as `describe-spot-price-history --output text` would print them (change points only). */
export function formatPriceFile(trace: Trace): string {
  const lines: string[] = []
  trace.pools.forEach((pool, k) => {
    const series = trace.prices[k]!
    series.forEach((price, i) => {
      const isLast = i === series.length - 1 // keeps the trace's full length on a round trip
      if (Number.isNaN(price) || (i > 0 && series[i - 1] === price && !isLast)) return
      const at = new Date(trace.start + i * trace.stepMs).toISOString().replace('.000Z', '+00:00')
      lines.push(
        ['SPOTPRICEHISTORY', pool.az, trace.instanceType, 'Linux/UNIX', price.toFixed(6), at].join('\t'),
      )
    })
  })
  return lines.join('\n') + '\n'
}

export function formatEventsFile(events: readonly TraceEvent[]): string {
  const header = '# kind\taz\ttime (ISO-8601 UTC)\n'
  return header + events.map((e) => `${e.kind}\t${e.az}\t${new Date(e.at).toISOString()}`).join('\n') + '\n'
}
