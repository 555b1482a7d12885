/**
 * The price of a series (a spot pool, or on-demand of a type and region) for one client, now or over a
 * time range: the rows that client may see (its own and other clients' shared ones) resolved by
 * prices/resolve.ts. The engine, the instance pages and lists, the ledger and switch pricing all read
 * prices through here, so every view of a client's instance shows what drives its decisions.
 */
import { and, asc, eq, gte, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { ondemandPrices, priceQuotes, spotPrices } from '../schema'
import { resolvePrice, resolveSeries, type ClientSeries, type Resolved } from '../../prices/resolve'
import { SPOT_CARRY_CAP_MS } from '../../ledger/cost'
import type { PricePoint } from '../../ledger/series'

/** Other clients' quotes older than this (by their last report) take no part in today's consensus. */
export const CONSENSUS_FRESH_MS = 3_600_000

const ON_DEMAND_PREFIX = 'ondemand:'

/** The series key of on-demand prices in `price_quotes`. */
export function onDemandSeries(instanceType: string, region: string): string {
  return `${ON_DEMAND_PREFIX}${instanceType}:${region}`
}

/** The instance type and region of an on-demand series key (types and regions hold no `:`). */
function typeAndRegionOf(series: string): [string, string] {
  const [type = '', region = ''] = series.slice(ON_DEMAND_PREFIX.length).split(':')
  return [type, region]
}

/** A series' price as one client sees it now. */
export interface SeenPrice {
  price: number
  source: Resolved['source']
  /** The last report behind it (epoch ms): its freshness. */
  reportedAt: number
  /** When the client's own quote last changed; for a consensus, the newest change among its quotes. */
  changedAt: number
}

const CHUNK = 90 // D1 binds at most 100 parameters per statement

/** The prices `clientId` sees now of `series`; a series nothing resolves for is absent. */
export async function pricesNow(
  db: Database,
  clientId: string,
  series: readonly string[],
  now: number,
): Promise<Map<string, SeenPrice>> {
  const rows: (typeof priceQuotes.$inferSelect)[] = []
  for (let i = 0; i < series.length; i += CHUNK) {
    rows.push(
      ...(await db
        .select()
        .from(priceQuotes)
        .where(
          and(
            inArray(priceQuotes.series, series.slice(i, i + CHUNK)),
            or(
              eq(priceQuotes.clientId, clientId),
              and(eq(priceQuotes.shared, true), gte(priceQuotes.reportedAt, now - CONSENSUS_FRESH_MS)),
            ),
          ),
        )),
    )
  }
  const operator = await operatorQuotes(db, series, now)
  const out = new Map<string, SeenPrice>()
  for (const key of new Set([...rows, ...operator].map((r) => r.series))) {
    const quotes = [...rows, ...operator].filter((r) => r.series === key)
    const resolved = resolvePrice(quotes, clientId)
    if (!resolved) continue
    const behind =
      resolved.source === 'consensus'
        ? quotes.filter((q) => q.shared)
        : quotes.filter((q) => q.clientId === (resolved.source === 'own' ? clientId : null))
    out.set(key, {
      price: resolved.price,
      source: resolved.source,
      reportedAt: Math.max(...behind.map((q) => q.reportedAt)),
      changedAt: Math.max(...behind.map((q) => q.changedAt)),
    })
  }
  return out
}

type OperatorQuote = {
  series: string
  clientId: null
  price: number
  changedAt: number
  reportedAt: number
  shared: false
}

/**
 * The operator's latest price of each series (rows no client reported: seeded or imported history),
 * within the carry cap: one index seek per series.
 */
async function operatorQuotes(
  db: Database,
  series: readonly string[],
  now: number,
): Promise<OperatorQuote[]> {
  const floor = sql.raw(String(Math.trunc(now - SPOT_CARRY_CAP_MS)))
  const poolIds = series.filter((s) => !s.startsWith(ON_DEMAND_PREFIX))
  const onDemand = series.filter((s) => s.startsWith(ON_DEMAND_PREFIX))
  const [spot, od] = await Promise.all([
    poolIds.length === 0
      ? []
      : db.all<{ series: string; price: number; at: number }>(sql`
          select s.pool_id as series, s.price as price, s.observed_at as at from ${spotPrices} s
          where s.id in (
            select (select s2.id from ${spotPrices} s2
                     where s2.pool_id = p.value and s2.reported_by_client_id is null and s2.observed_at >= ${floor}
                     order by s2.observed_at desc limit 1)
            from json_each(${JSON.stringify(poolIds)}) p)`),
    onDemand.length === 0
      ? []
      : db
          .all<{ type: string; region: string; price: number; at: number }>(
            sql`
          select o.instance_type as type, o.region as region, o.price as price, o.observed_at as at
          from ${ondemandPrices} o
          where o.id in (
            select (select o2.id from ${ondemandPrices} o2
                     where o2.instance_type = json_extract(k.value, '$[0]')
                       and o2.region = json_extract(k.value, '$[1]')
                       and o2.reported_by_client_id is null
                     order by o2.observed_at desc limit 1)
            from json_each(${JSON.stringify(onDemand.map(typeAndRegionOf))}) k)`,
          )
          .then((rows) => rows.map((r) => ({ ...r, series: onDemandSeries(r.type, r.region) }))),
  ])
  return [...spot, ...od].map((r) => ({
    series: r.series,
    clientId: null,
    price: r.price,
    changedAt: r.at,
    reportedAt: r.at,
    shared: false,
  }))
}

/** The price `clientId` sees now of one series, or null. */
export async function priceNow(db: Database, clientId: string, series: string, now: number) {
  return (await pricesNow(db, clientId, [series], now)).get(series) ?? null
}

/**
 * Spot prices `clientId` sees over [from, to] per pool: each reporter's price in force at `from` (within
 * the carry cap) and its change points up to `to`, resolved at every change point. A reporter's price
 * holds until its next change point, as a step function does.
 */
export async function spotSeriesFor(
  db: Database,
  clientId: string,
  poolIds: readonly string[],
  from: number,
  to: number,
): Promise<Map<string, PricePoint[]>> {
  const visible = or(
    eq(spotPrices.reportedByClientId, clientId),
    eq(spotPrices.shared, true),
    isNull(spotPrices.reportedByClientId),
  )
  const [start, floor] = [from, from - SPOT_CARRY_CAP_MS].map((t) => sql.raw(String(Math.trunc(t))))
  const out = new Map<string, PricePoint[]>()
  for (let i = 0; i < poolIds.length; i += CHUNK) {
    const chunk = poolIds.slice(i, i + CHUNK)
    const [inForce, changes] = await Promise.all([
      // One index seek per (pool, reporter) on spot_prices_pool_client_time: the reporters from
      // price_quotes, the operator's rows (no reporter) beside them.
      db.all<{ poolId: string; clientId: string | null; at: number; price: number; shared: number }>(sql`
        select q.series as poolId, q.client_id as clientId, s.observed_at as at, s.price as price,
          s.shared as shared
        from ${priceQuotes} q join ${spotPrices} s on s.id = (
          select s2.id from ${spotPrices} s2
           where s2.pool_id = q.series and s2.reported_by_client_id = q.client_id
             and s2.observed_at <= ${start} and s2.observed_at >= ${floor}
             and (s2.reported_by_client_id = ${clientId} or s2.shared = 1)
           order by s2.observed_at desc limit 1)
        where q.series in ${chunk}
        union all
        select s.pool_id, null, s.observed_at, s.price, s.shared
        from ${spotPrices} s where s.id in (
          select (select s2.id from ${spotPrices} s2
                   where s2.pool_id = p.value and s2.reported_by_client_id is null
                     and s2.observed_at <= ${start} and s2.observed_at >= ${floor}
                   order by s2.observed_at desc limit 1)
          from json_each(${JSON.stringify(chunk)}) p)`),
      db
        .select({
          poolId: spotPrices.poolId,
          clientId: spotPrices.reportedByClientId,
          at: spotPrices.observedAt,
          price: spotPrices.price,
          shared: spotPrices.shared,
        })
        .from(spotPrices)
        .where(
          and(
            inArray(spotPrices.poolId, chunk),
            sql`${spotPrices.observedAt} > ${Math.trunc(from)}`,
            lte(spotPrices.observedAt, to),
            visible,
          ),
        )
        .orderBy(asc(spotPrices.observedAt)),
    ])
    for (const poolId of chunk) {
      const rows = [
        ...inForce.filter((r) => r.poolId === poolId).map((r) => ({ ...r, shared: Boolean(r.shared) })),
        ...changes.filter((r) => r.poolId === poolId),
      ]
      const points = resolveSeries(byReporter(rows), clientId)
      if (points.length > 0) out.set(poolId, points)
    }
  }
  return out
}

/** On-demand prices of a type and region `clientId` sees up to `to` (they change a few times a year). */
export async function onDemandSeriesFor(
  db: Database,
  clientId: string,
  instanceType: string,
  region: string,
  to: number,
): Promise<PricePoint[]> {
  const rows = await db
    .select({
      clientId: ondemandPrices.reportedByClientId,
      at: ondemandPrices.observedAt,
      price: ondemandPrices.price,
      shared: ondemandPrices.shared,
    })
    .from(ondemandPrices)
    .where(
      and(
        eq(ondemandPrices.instanceType, instanceType),
        eq(ondemandPrices.region, region),
        lte(ondemandPrices.observedAt, to),
        or(
          eq(ondemandPrices.reportedByClientId, clientId),
          eq(ondemandPrices.shared, true),
          isNull(ondemandPrices.reportedByClientId),
        ),
      ),
    )
    .orderBy(asc(ondemandPrices.observedAt))
  return resolveSeries(byReporter(rows), clientId)
}

/** Rows of several reporters as each reporter's step function (what prices/resolve.ts resolves). */
export function byReporter(
  rows: readonly { clientId: string | null; at: number; price: number; shared: boolean }[],
): ClientSeries[] {
  const series = new Map<string | null, ClientSeries & { points: ClientSeries['points'][number][] }>()
  for (const r of [...rows].sort((a, b) => a.at - b.at)) {
    const s = series.get(r.clientId) ?? { clientId: r.clientId, points: [] }
    s.points.push({ at: r.at, price: r.price, shared: r.shared })
    series.set(r.clientId, s)
  }
  return [...series.values()]
}
