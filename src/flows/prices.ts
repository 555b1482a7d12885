/**
 * Recording reported prices, per reporting client: a report feeds its own client's prices and, when
 * `shared`, a consensus of several clients (prices/resolve.ts). Pools outside the reporter's own region
 * and reportable types are dropped (prices/reportable.ts).
 * Writes: `pools`, `price_quotes`, `spot_prices`, `ondemand_prices`.
 */
import { and, eq, inArray } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../db/client'
import { runBatch } from '../db/batch'
import { ondemandPrices, pools, priceQuotes, spotPrices } from '../db/schema'
import { planPriceWrite } from '../prices/step'
import { isReportable, type ReporterPlace } from '../prices/reportable'
import { onDemandSeries } from '../db/queries/quotes'

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
  spotPools: ReportedPool[]
}

export interface RecordedPrices {
  spotRows: number
  ondemandRows: number
  /** Pools outside the reporter's scope, not stored. */
  ignoredPools: string[]
}

type Quote = typeof priceQuotes.$inferSelect

/** Stores one report at server time `now`: change points only, the client's quotes upserted. */
export async function recordPrices(db: Database, report: PriceReport, now: number): Promise<RecordedPrices> {
  const byId = new Map(report.spotPools.map((p) => [p.poolId, p]))
  const accepted = [...byId.values()].filter((p) => isReportable(report.place, p))
  const ignoredPools = [...byId.keys()].filter((id) => !accepted.some((p) => p.poolId === id))
  const { instanceType, region } = report.place
  // The on-demand price a report carries is of the agent's own type.
  const odSeries =
    report.onDemandPrice !== null && instanceType && region ? onDemandSeries(instanceType, region) : null
  const [known, quotes] = await Promise.all([
    loadKnownPools(
      db,
      accepted.map((p) => p.poolId),
    ),
    loadOwnQuotes(db, report.clientId, [...accepted.map((p) => p.poolId), ...(odSeries ? [odSeries] : [])]),
  ])
  const statements: BatchItem<'sqlite'>[] = []
  let spotRows = 0
  for (const pool of accepted) {
    if (!known.has(pool.poolId)) {
      statements.push(
        db
          .insert(pools)
          .values({
            id: pool.poolId,
            instanceType: pool.instanceType,
            region: region!,
            az: pool.az,
            createdAt: now,
          })
          .onConflictDoNothing(),
      )
    }
    const plan = planQuote(db, report, pool.poolId, quotes.get(pool.poolId), pool.price, now)
    if (plan.writeRow) {
      spotRows++
      statements.push(
        db.insert(spotPrices).values({
          poolId: pool.poolId,
          price: pool.price,
          observedAt: now,
          reportedByClientId: report.clientId,
          reportedByAgentId: report.agentId,
          shared: report.shared,
        }),
      )
    }
    statements.push(...plan.statements)
  }
  let ondemandRows = 0
  if (odSeries) {
    const plan = planQuote(db, report, odSeries, quotes.get(odSeries), report.onDemandPrice!, now)
    if (plan.writeRow) {
      ondemandRows++
      statements.push(
        db.insert(ondemandPrices).values({
          instanceType: instanceType!,
          region: region!,
          price: report.onDemandPrice!,
          observedAt: now,
          reportedByClientId: report.clientId,
          shared: report.shared,
        }),
      )
    }
    statements.push(...plan.statements)
  }
  await runBatch(db, statements)
  return { spotRows, ondemandRows, ignoredPools }
}

/**
 * The client's quote of a series after a report: a change point at most every 5 minutes per client and
 * series, the freshness stamp refreshed at most every 15 minutes (prices/step.ts), so a steady price
 * costs one quote write per series and client per quarter hour.
 */
function planQuote(
  db: Database,
  report: PriceReport,
  series: string,
  last: Quote | undefined,
  price: number,
  now: number,
): { writeRow: boolean; statements: BatchItem<'sqlite'>[] } {
  const plan = planPriceWrite(
    last ? { price: last.price, changedAt: last.changedAt, reportedAt: last.reportedAt } : null,
    price,
    now,
  )
  const sharedChanged = last !== undefined && last.shared !== report.shared
  if (!plan.touch && !sharedChanged) return { writeRow: false, statements: [] }
  const changed = plan.writeRow ? { price, changedAt: now } : {}
  const upsert = db
    .insert(priceQuotes)
    .values({
      series,
      clientId: report.clientId,
      price,
      changedAt: now,
      reportedAt: now,
      shared: report.shared,
    })
    .onConflictDoUpdate({
      target: [priceQuotes.series, priceQuotes.clientId],
      set: { ...changed, reportedAt: now, shared: report.shared },
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
