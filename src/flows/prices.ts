/**
 * Recording reported prices. Prices are public market data whoever reports them; the reporter is kept
 * so bad data can be discounted.
 * Writes: `pools`, `spot_prices`, `ondemand_prices`.
 */
import { eq, inArray } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../db/client'
import { runBatch } from '../db/batch'
import { ondemandPrices, pools, spotPrices } from '../db/schema'
import { latestOnDemandQuery } from '../db/queries/on-demand'
import { planPriceWrite } from '../prices/step'

export interface ReportedPool {
  poolId: string
  instanceType: string
  az: string
  price: number
}

export interface PriceReport {
  clientId: string
  agentId: string
  region: string
  instanceType: string | null
  onDemandPrice: number | null
  spotPools: ReportedPool[]
}

export interface RecordedPrices {
  spotRows: number
  ondemandRows: number
}

/** Stores one report at server time `now`: change points only, pools upserted. */
export async function recordPrices(db: Database, report: PriceReport, now: number): Promise<RecordedPrices> {
  const byId = new Map(report.spotPools.map((p) => [p.poolId, p]))
  const known = await loadPools(db, [...byId.keys()])
  const statements: BatchItem<'sqlite'>[] = []
  let spotRows = 0
  for (const pool of byId.values()) {
    const last = known.get(pool.poolId)
    const plan = planPriceWrite(
      last
        ? { price: last.lastPrice, changedAt: last.priceChangedAt, reportedAt: last.lastReportedAt }
        : null,
      pool.price,
      now,
    )
    if (plan.writeRow) {
      spotRows++
      statements.push(
        db.insert(spotPrices).values({
          poolId: pool.poolId,
          price: pool.price,
          observedAt: now,
          reportedByClientId: report.clientId,
          reportedByAgentId: report.agentId,
        }),
      )
    }
    if (!last) {
      statements.push(
        db
          .insert(pools)
          .values({
            id: pool.poolId,
            instanceType: pool.instanceType,
            region: report.region,
            az: pool.az,
            createdAt: now,
            lastPrice: pool.price,
            priceChangedAt: now,
            lastReportedAt: now,
          })
          .onConflictDoUpdate({
            target: pools.id,
            set: { lastPrice: pool.price, priceChangedAt: now, lastReportedAt: now },
          }),
      )
    } else if (plan.touch) {
      const changed = plan.writeRow ? { lastPrice: pool.price, priceChangedAt: now } : {}
      statements.push(
        db
          .update(pools)
          .set({ ...changed, lastReportedAt: now })
          .where(eq(pools.id, pool.poolId)),
      )
    }
  }
  // Wrapped in an array: a query builder is a thenable, so returning it bare from an async function would run it.
  const ondemandRows = await planOndemand(db, report, now)
  statements.push(...ondemandRows)
  await runBatch(db, statements)
  return { spotRows, ondemandRows: ondemandRows.length }
}

async function loadPools(db: Database, ids: string[]) {
  const rows: (typeof pools.$inferSelect)[] = []
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < ids.length; i += 90) {
    rows.push(
      ...(await db
        .select()
        .from(pools)
        .where(inArray(pools.id, ids.slice(i, i + 90)))),
    )
  }
  return new Map(rows.map((r) => [r.id, r]))
}

async function planOndemand(db: Database, report: PriceReport, now: number): Promise<BatchItem<'sqlite'>[]> {
  if (report.onDemandPrice === null || report.instanceType === null) return []
  const [last] = await latestOnDemandQuery(db, report.instanceType, report.region)
  const plan = planPriceWrite(
    last ? { price: last.price, changedAt: last.observedAt, reportedAt: last.observedAt } : null,
    report.onDemandPrice,
    now,
  )
  if (!plan.writeRow) return []
  const row = db.insert(ondemandPrices).values({
    instanceType: report.instanceType,
    region: report.region,
    price: report.onDemandPrice,
    observedAt: now,
    reportedByClientId: report.clientId,
  })
  return [row]
}
