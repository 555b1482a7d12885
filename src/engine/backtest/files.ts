/**
 * The backtest's input files.
 * Prices: the text output of `aws ec2 describe-spot-price-history --output text`, one change point a line:
 *   SPOTPRICEHISTORY <tab> <az> <tab> <instance type> <tab> <product description> <tab> <price> <tab> <ISO time>
 * Events (optional, ours): `<interruption|rebalance> <tab> <az> <tab> <ISO time> [<tab> <instance type>]`
 * (without a type: the trace's starting type), `#` starts a comment.
 */
import { typeExclusion } from '../compatibility'
import { instanceTypeSpec } from '../instance-types'
import { eventInPool, stepSeries, type Trace, type TraceEvent } from './trace'

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
    const [kind, az, time, instanceType, extra] = line.split(/\s+/)
    const at = Date.parse(time ?? '')
    if ((kind !== 'interruption' && kind !== 'rebalance') || !az || Number.isNaN(at) || extra) {
      throw new Error(
        `events file line ${n + 1}: expected "<interruption|rebalance> <az> <ISO time> [<instance type>]"`,
      )
    }
    events.push(instanceType ? { kind, az, at, instanceType } : { kind, az, at })
  })
  return events.sort((a, b) => a.at - b.at)
}

/** Which types of a price file make the trace, and their on-demand prices. */
export interface FileTypes {
  /** The type the workload starts on; default: the first type in the file. */
  instanceType?: string
  /** On-demand USD/h of the other types; default: the shipped us-east-1 reference (instance-types.ts). */
  onDemandByType?: Record<string, number>
  /** The workload's allow-list; absent: the default rule picks the file's types. */
  allowedTypes?: readonly string[]
}

/** The rows of one type: `Linux/UNIX`, else `Linux/UNIX (Amazon VPC)`. */
function linuxRows(rows: readonly PriceRow[], type: string): PriceRow[] {
  const ofType = rows.filter((r) => r.instanceType === type)
  const plain = ofType.filter((r) => r.product === 'Linux/UNIX')
  return plain.length > 0 ? plain : ofType.filter((r) => r.product === 'Linux/UNIX (Amazon VPC)')
}

/**
 * A trace from price rows: the starting type (`onDemand` is its price) and every other type of the
 * file the workload may run on (compatibility.ts: the allow-list when given, else the default rule)
 * with a known on-demand price, one pool per type and
 * AZ, resampled as a step function onto a grid from the first change point to the last.
 */
export function traceFromPrices(
  rows: PriceRow[],
  onDemand: number,
  events: TraceEvent[] = [],
  stepMs = 300_000,
  types: FileTypes = {},
): Trace {
  const type = types.instanceType ?? rows[0]?.instanceType
  if (!type) throw new Error('price file has no SPOTPRICEHISTORY rows')
  const workload = { baseType: type, allowedTypes: types.allowedTypes ?? null }
  const onDemandOf = (t: string) =>
    t === type ? onDemand : (types.onDemandByType?.[t] ?? instanceTypeSpec(t)?.onDemandUsEast1)
  const kept = [...new Set(rows.map((r) => r.instanceType))]
    .filter((t) => typeExclusion(t, workload) === null && onDemandOf(t) !== undefined)
    .sort()
  const chosen = kept.flatMap((t) => linuxRows(rows, t))
  if (!chosen.some((r) => r.instanceType === type)) throw new Error(`no Linux/UNIX prices for ${type}`)
  chosen.sort((a, b) => a.at - b.at)
  const start = Math.floor(chosen[0]!.at / stepMs) * stepMs
  const steps = Math.floor((chosen[chosen.length - 1]!.at - start) / stepMs) + 1
  const pools = kept.flatMap((t) =>
    [...new Set(chosen.filter((r) => r.instanceType === t).map((r) => r.az))]
      .sort()
      .map((az) => ({ poolId: `${t}.${az}`, az, instanceType: t })),
  )
  const trace: Trace = {
    start,
    stepMs,
    steps,
    onDemand,
    instanceType: type,
    onDemandByType: Object.fromEntries(kept.map((t) => [t, onDemandOf(t)!])),
    ...(types.allowedTypes ? { allowedTypes: types.allowedTypes } : {}),
    pools,
    prices: pools.map((pool) =>
      stepSeries(
        chosen.filter((r) => r.az === pool.az && r.instanceType === pool.instanceType),
        start,
        steps,
        stepMs,
      ),
    ),
    events: [],
  }
  trace.events = events.filter((e) => trace.pools.some((_, k) => eventInPool(trace, e, k)))
  return trace
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
        ['SPOTPRICEHISTORY', pool.az, pool.instanceType, 'Linux/UNIX', price.toFixed(6), at].join('\t'),
      )
    })
  })
  return lines.join('\n') + '\n'
}

export function formatEventsFile(events: readonly TraceEvent[]): string {
  const header = '# kind\taz\ttime (ISO-8601 UTC)\tinstance type (absent: the starting type)\n'
  const line = (e: TraceEvent) =>
    [e.kind, e.az, new Date(e.at).toISOString(), ...(e.instanceType ? [e.instanceType] : [])].join('\t')
  return header + events.map(line).join('\n') + '\n'
}
