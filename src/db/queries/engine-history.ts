/**
 * Stored market history of one instance type and region, for backtests: as rows (`loadHistory`, what the
 * Worker's backtest runs on) and in the CLI's input formats (README "Backtest"): prices as
 * `describe-spot-price-history --output text`, events as the TSV.
 */
import { and, asc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { events, pools, spotPrices } from '../schema'
import type { StoredHistory } from '../../engine/backtest/history'
import type { TraceEvent } from '../../engine/backtest/trace'

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+00:00')

async function poolsOf(db: Database, instanceType: string, region: string) {
  const rows = await db
    .select({ id: pools.id, az: pools.az })
    .from(pools)
    .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
  return rows.slice(0, 90) // D1: at most 100 bound parameters
}

/** Price change points of the pools `ids` in [from, to] (to: open-ended when absent). */
function priceRows(db: Database, ids: string[], from: number, to?: number) {
  return db
    .select({ poolId: spotPrices.poolId, price: spotPrices.price, at: spotPrices.observedAt })
    .from(spotPrices)
    .where(
      and(
        inArray(spotPrices.poolId, ids),
        gte(spotPrices.observedAt, from),
        to === undefined ? undefined : lte(spotPrices.observedAt, to),
      ),
    )
    .orderBy(asc(spotPrices.observedAt))
}

/** Interruption notices and rebalance signals in the pools `ids` in [from, to] (to: open-ended when absent). */
function eventRows(db: Database, ids: string[], from: number, to?: number) {
  return db
    .select({ poolId: events.poolId, kind: events.kind, at: events.receivedAt })
    .from(events)
    .where(
      and(
        inArray(events.poolId, ids),
        inArray(events.kind, ['termination_notice', 'rebalance']),
        gte(events.receivedAt, from),
        to === undefined ? undefined : lte(events.receivedAt, to),
      ),
    )
    .orderBy(asc(events.receivedAt))
}

const eventKind = (k: string): TraceEvent['kind'] =>
  k === 'termination_notice' ? 'interruption' : 'rebalance'

/**
 * Pools, price change points in [from, to] plus each pool's last one before `from` (its price at the
 * window start), and the fleet's interruption and rebalance signals, without the on-demand price.
 */
export async function loadHistory(
  db: Database,
  instanceType: string,
  region: string,
  from: number,
  to: number,
): Promise<Omit<StoredHistory, 'onDemand'>> {
  const known = await poolsOf(db, instanceType, region)
  const base = { instanceType, from, to, pools: known.map((p) => ({ poolId: p.id, az: p.az })) }
  if (known.length === 0) return { ...base, prices: [], events: [] }
  const ids = known.map((p) => p.id)
  const [before, inside, signals] = await Promise.all([
    // SQLite returns the bare `price` of the row holding max(observed_at)
    db
      .select({
        poolId: spotPrices.poolId,
        price: spotPrices.price,
        at: sql<number>`max(${spotPrices.observedAt})`,
      })
      .from(spotPrices)
      .where(and(inArray(spotPrices.poolId, ids), lt(spotPrices.observedAt, from)))
      .groupBy(spotPrices.poolId),
    priceRows(db, ids, from, to),
    eventRows(db, ids, from, to),
  ])
  const azOf = new Map(known.map((p) => [p.id, p.az]))
  return {
    ...base,
    prices: [...before, ...inside],
    events: signals.map((r) => ({ kind: eventKind(r.kind), az: azOf.get(r.poolId ?? '') ?? '', at: r.at })),
  }
}

/** Spot price change points of every pool of the type and region since `from`. */
export async function priceFileText(
  db: Database,
  instanceType: string,
  region: string,
  from: number,
): Promise<string> {
  const known = await poolsOf(db, instanceType, region)
  if (known.length === 0) return ''
  const azOf = new Map(known.map((p) => [p.id, p.az]))
  const rows = await priceRows(
    db,
    known.map((p) => p.id),
    from,
  )
  return rows
    .map((r) =>
      [
        'SPOTPRICEHISTORY',
        azOf.get(r.poolId),
        instanceType,
        'Linux/UNIX',
        r.price.toFixed(6),
        iso(r.at),
      ].join('\t'),
    )
    .map((line) => `${line}\n`)
    .join('')
}

/** The fleet's interruption notices and rebalance signals in those pools since `from`. */
export async function eventsFileText(
  db: Database,
  instanceType: string,
  region: string,
  from: number,
): Promise<string> {
  const known = await poolsOf(db, instanceType, region)
  const azOf = new Map(known.map((p) => [p.id, p.az]))
  const rows =
    known.length === 0
      ? []
      : await eventRows(
          db,
          known.map((p) => p.id),
          from,
        )
  const lines = rows.map(
    (r) => `${eventKind(r.kind)}\t${azOf.get(r.poolId ?? '')}\t${new Date(r.at).toISOString()}\n`,
  )
  return `# kind\taz\ttime (ISO-8601 UTC)\n${lines.join('')}`
}
