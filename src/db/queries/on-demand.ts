/** The latest on-demand price of an instance type in a region, as one query every reader shares. */
import { and, desc, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { ondemandPrices } from '../schema'

/** Query: the latest on-demand price row (price, observed at) of a type and region; none when never reported. */
export function latestOnDemandQuery(db: Database, instanceType: string, region: string) {
  return db
    .select({ price: ondemandPrices.price, observedAt: ondemandPrices.observedAt })
    .from(ondemandPrices)
    .where(and(eq(ondemandPrices.instanceType, instanceType), eq(ondemandPrices.region, region)))
    .orderBy(desc(ondemandPrices.observedAt))
    .limit(1)
}
