/**
 * Stored market history in the backtest's input formats (README "Backtest"), so any parameter version can
 * be replayed on real data: prices as `describe-spot-price-history --output text`, events as the TSV.
 */
import { and, asc, eq, gte, inArray } from 'drizzle-orm'
import type { Database } from '../db/client'
import { events, pools, spotPrices } from '../db/schema'

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+00:00')

async function poolsOf(db: Database, instanceType: string, region: string) {
  const rows = await db
    .select({ id: pools.id, az: pools.az })
    .from(pools)
    .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
  return rows.slice(0, 90) // D1: at most 100 bound parameters
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
  const rows = await db
    .select({ poolId: spotPrices.poolId, price: spotPrices.price, at: spotPrices.observedAt })
    .from(spotPrices)
    .where(and(inArray(spotPrices.poolId, [...azOf.keys()]), gte(spotPrices.observedAt, from)))
    .orderBy(asc(spotPrices.observedAt))
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
      : await db
          .select({ poolId: events.poolId, kind: events.kind, at: events.receivedAt })
          .from(events)
          .where(
            and(
              inArray(events.poolId, [...azOf.keys()]),
              inArray(events.kind, ['termination_notice', 'rebalance']),
              gte(events.receivedAt, from),
            ),
          )
          .orderBy(asc(events.receivedAt))
  const kind = (k: string) => (k === 'termination_notice' ? 'interruption' : 'rebalance')
  const lines = rows.map(
    (r) => `${kind(r.kind)}\t${azOf.get(r.poolId ?? '')}\t${new Date(r.at).toISOString()}\n`,
  )
  return `# kind\taz\ttime (ISO-8601 UTC)\n${lines.join('')}`
}
