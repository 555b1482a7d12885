/**
 * Recording reported prices, per reporting client: a report feeds its own client's prices and, when
 * `shared`, a consensus of several clients (prices/resolve.ts). Pools outside the reporter's own region
 * and reportable types are dropped (prices/reportable.ts). A 5.x report's `spot_history` is stored at
 * EC2's own timestamps (prices/history.ts); the current prices of every report at receive time. Rows past
 * their retention are deleted here too, when flows/price-retention.ts says.
 * Writes: `pools`, `price_quotes`, `spot_prices`, `ondemand_prices`.
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../db/client'
import { runBatch } from '../db/batch'
import { ondemandPrices, pools, priceQuotes, spotPrices } from '../db/schema'
import { planPriceWrite } from '../prices/step'
import { isReportable, reportableTypes, type ReporterPlace } from '../prices/reportable'
import { parsePoolId } from '../prices/pool-id'
import { acceptHistory, newChangePoints, type IgnoredPoint, type ReportedPoint } from '../prices/history'
import type { PricePoint } from '../ledger/series'
import { onDemandSeries } from '../db/queries/quotes'
import { ownSeriesSince } from './price-history'

export interface ReportedPool {
  poolId: string
  instanceType: string
  az: string
  price: number
}

export interface PriceReport {
  clientId: string
  agentId: string
  /** The report may feed other tenants' prices (auth/principal.ts feedsOtherTenants). */
  shared: boolean
  /** The reporter's own instance type and region: the scope of what it may report. */
  place: ReporterPlace
  onDemandPrice: number | null
  /** 5.x: on-demand prices of the other types it priced; those outside its scope are dropped. */
  otherOnDemand?: readonly { instanceType: string; price: number }[]
  spotPools: ReportedPool[]
  /** 5.x: EC2's change points since the previous report, at EC2's times (empty for older agents). */
  spotHistory: ReportedPoint[]
}

export interface RecordedPrices {
  /** Change points stored, at receive time and from the history. */
  spotRows: number
  ondemandRows: number
  /** Pools outside the reporter's scope, not stored. */
  ignoredPools: string[]
  /** History points not stored, each with its reason (prices/history.ts). */
  ignoredHistory: IgnoredPoint[]
}

type Quote = typeof priceQuotes.$inferSelect

/** Stores one report at server time `now`: change points only, the client's quotes upserted. */
export async function recordPrices(db: Database, report: PriceReport, now: number): Promise<RecordedPrices> {
  const byId = new Map(report.spotPools.map((p) => [p.poolId, p]))
  const accepted = [...byId.values()].filter((p) => isReportable(report.place, p))
  const ignoredPools = [...byId.keys()].filter((id) => !accepted.some((p) => p.poolId === id))
  const history = acceptHistory(
    report.spotHistory,
    (poolId) => {
      const ref = parsePoolId(poolId)
      return ref !== null && isReportable(report.place, ref)
    },
    now,
  )
  const { region } = report.place
  // `on_demand_price` is of the agent's own type; a 5.x reporter adds those of the other types it priced.
  const scope = reportableTypes(report.place)
  const onDemand = [
    ...(report.onDemandPrice !== null && report.place.instanceType
      ? [{ instanceType: report.place.instanceType, price: report.onDemandPrice }]
      : []),
    ...(report.otherOnDemand ?? []).filter((o) => o.instanceType !== report.place.instanceType),
  ]
    .filter((o) => region && scope.includes(o.instanceType))
    .map((o) => ({ ...o, series: onDemandSeries(o.instanceType, region!) }))
  const poolIds = [...new Set([...accepted.map((p) => p.poolId), ...history.byPool.keys()])]
  const earliest = Math.min(...[...history.byPool.values()].flat().map((p) => p.at))
  const [known, quotes, stored] = await Promise.all([
    loadKnownPools(db, poolIds),
    loadOwnQuotes(db, report.clientId, [...poolIds, ...onDemand.map((o) => o.series)]),
    history.byPool.size > 0
      ? ownSeriesSince(db, report.clientId, [...history.byPool.keys()], earliest)
      : new Map<string, PricePoint[]>(),
  ])
  const statements: BatchItem<'sqlite'>[] = []
  let spotRows = 0
  for (const poolId of poolIds) {
    if (known.has(poolId)) continue
    const ref = parsePoolId(poolId)!
    statements.push(
      db
        .insert(pools)
        .values({ id: poolId, instanceType: ref.instanceType, region: region!, az: ref.az, createdAt: now })
        .onConflictDoNothing(),
    )
  }
  // History first: the receive-time price below is weighed against the newest change point EC2 gave.
  const newest = new Map<string, PricePoint>()
  for (const [poolId, points] of history.byPool) {
    const taken = newChangePoints(stored.get(poolId) ?? [], points)
    for (const point of taken) statements.push(insertSpotRow(db, report, poolId, point))
    spotRows += taken.length
    if (taken.length > 0) newest.set(poolId, taken.at(-1)!)
  }
  // A pool with history and no current price in the report: its quote follows the history alone.
  for (const [poolId, point] of newest) {
    if (!accepted.some((p) => p.poolId === poolId))
      statements.push(...planQuote(db, report, poolId, quotes.get(poolId), null, now, point).statements)
  }
  for (const pool of accepted) {
    const plan = planQuote(
      db,
      report,
      pool.poolId,
      quotes.get(pool.poolId),
      pool.price,
      now,
      newest.get(pool.poolId),
    )
    if (plan.writeRow) {
      spotRows++
      statements.push(insertSpotRow(db, report, pool.poolId, { at: now, price: pool.price }))
    }
    statements.push(...plan.statements)
  }
  let ondemandRows = 0
  for (const od of onDemand) {
    const plan = planQuote(db, report, od.series, quotes.get(od.series), od.price, now)
    if (plan.writeRow) {
      ondemandRows++
      statements.push(
        db.insert(ondemandPrices).values({
          instanceType: od.instanceType,
          region: region!,
          price: od.price,
          observedAt: now,
          reportedByClientId: report.clientId,
          shared: report.shared,
        }),
      )
    }
    statements.push(...plan.statements)
  }
  await runBatch(db, statements)
  return { spotRows, ondemandRows, ignoredPools, ignoredHistory: history.ignored }
}

function insertSpotRow(db: Database, report: PriceReport, poolId: string, point: PricePoint) {
  return db.insert(spotPrices).values({
    poolId,
    price: point.price,
    observedAt: point.at,
    reportedByClientId: report.clientId,
    reportedByAgentId: report.agentId,
    shared: report.shared,
  })
}

/**
 * Deletes at most `limit` spot price rows observed before `cutoff` (epoch ms) that no reader needs: a
 * reporter's last row before `cutoff` stays while it may still give the price (within `carryCapMs`), so
 * a window starting at `cutoff` keeps its price in force. Called by flows/price-retention.ts.
 */
export function deleteExpiredSpotPrices(db: Database, cutoff: number, carryCapMs: number, limit: number) {
  const at = Math.trunc(cutoff)
  return db.delete(spotPrices).where(sql`${spotPrices.id} in (
    select s.id from ${spotPrices} s
    where s.pool_id in (select id from ${pools}) and s.observed_at < ${at}
      and (s.observed_at < ${at - carryCapMs} or exists (
        select 1 from ${spotPrices} n
        where n.pool_id = s.pool_id and n.reported_by_client_id is s.reported_by_client_id
          and n.observed_at > s.observed_at and n.observed_at <= ${at}))
    limit ${sql.raw(String(Math.trunc(limit)))})`)
}

/**
 * The client's quote of a series after a report: a change point at most every 5 minutes per client and
 * series, the freshness stamp refreshed at most every 15 minutes (prices/step.ts), so a steady price
 * costs one quote write per series and client per quarter hour. `newest`, the report's newest stored
 * history point, moves the quote first when it is newer; `price` null: the report has no current price.
 */
function planQuote(
  db: Database,
  report: PriceReport,
  series: string,
  last: Quote | undefined,
  price: number | null,
  now: number,
  newest?: PricePoint,
): { writeRow: boolean; statements: BatchItem<'sqlite'>[] } {
  const moved = newest !== undefined && (last === undefined || newest.at > last.changedAt)
  const base = moved
    ? { price: newest.price, changedAt: newest.at, reportedAt: last?.reportedAt ?? null }
    : last && { price: last.price, changedAt: last.changedAt, reportedAt: last.reportedAt }
  const plan = price === null ? { writeRow: false, touch: true } : planPriceWrite(base ?? null, price, now)
  const sharedChanged = last !== undefined && last.shared !== report.shared
  if (!plan.touch && !sharedChanged && !moved) return { writeRow: false, statements: [] }
  // `base` is set unless the quote is new and the report brought no history, when a row is written.
  const state = plan.writeRow
    ? { price: price!, changedAt: now }
    : { price: base!.price, changedAt: base!.changedAt }
  const upsert = db
    .insert(priceQuotes)
    .values({ series, clientId: report.clientId, ...state, reportedAt: now, shared: report.shared })
    .onConflictDoUpdate({
      target: [priceQuotes.series, priceQuotes.clientId],
      set: { ...(plan.writeRow || moved ? state : {}), reportedAt: now, shared: report.shared },
    })
  return { writeRow: plan.writeRow, statements: [upsert] }
}

// D1 binds at most 100 parameters per statement.
const CHUNK = 90

async function loadKnownPools(db: Database, ids: string[]): Promise<Set<string>> {
  const known = new Set<string>()
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .select({ id: pools.id })
      .from(pools)
      .where(inArray(pools.id, ids.slice(i, i + CHUNK)))
    for (const r of rows) known.add(r.id)
  }
  return known
}

async function loadOwnQuotes(db: Database, clientId: string, series: string[]): Promise<Map<string, Quote>> {
  const out = new Map<string, Quote>()
  for (let i = 0; i < series.length; i += CHUNK) {
    const rows = await db
      .select()
      .from(priceQuotes)
      .where(and(eq(priceQuotes.clientId, clientId), inArray(priceQuotes.series, series.slice(i, i + CHUNK))))
    for (const r of rows) out.set(r.series, r)
  }
  return out
}
