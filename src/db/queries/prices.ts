/** Current prices: the latest spot price of pools and the latest on-demand price of a type and region. */
import { and, eq, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { pools } from '../schema'

/**
 * SQL for the latest spot price of the pool in `poolColumn` (a correlated subquery on the pool/time index).
 * Pass a table-qualified column: drizzle leaves columns unqualified in single-table queries.
 */
export function latestSpotPriceSql(poolColumn: unknown) {
  return sql<
    number | null
  >`(select sp.price from spot_prices sp where sp.pool_id = ${poolColumn} order by sp.observed_at desc limit 1)`
}

/** SQL for the latest on-demand price of a type and region. */
export function latestOnDemandSql(typeColumn: unknown, regionColumn: unknown) {
  return sql<
    number | null
  >`(select od.price from ondemand_prices od where od.instance_type = ${typeColumn} and od.region = ${regionColumn} order by od.observed_at desc limit 1)`
}

/** Query: every known pool of a type in a region with its latest price and when it last changed. */
export function poolsWithPricesQuery(db: Database, instanceType: string, region: string) {
  return db
    .select({
      id: pools.id,
      az: pools.az,
      instanceType: pools.instanceType,
      price: latestSpotPriceSql(sql.raw('"pools"."id"')),
      observedAt: sql<
        number | null
      >`(select max(sp.observed_at) from spot_prices sp where sp.pool_id = "pools"."id")`,
    })
    .from(pools)
    .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
    .orderBy(pools.az)
}

/** Savings of a price against on-demand, in percent (null when either is unknown). */
export function savingsPercent(price: number | null, onDemand: number | null): number | null {
  if (price === null || onDemand === null || onDemand <= 0) return null
  return Math.round(((onDemand - price) / onDemand) * 1000) / 10
}
