/**
 * Current prices as a client sees them (db/queries/quotes.ts): every known pool of a type and region,
 * and the spot and on-demand prices of a page of instances, each read for the instance's own client.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { pools } from '../schema'
import { onDemandSeries, pricesNow } from './quotes'

export interface PoolPrice {
  id: string
  az: string
  instanceType: string
  price: number | null
  /** When the price the client sees last changed. */
  observedAt: number | null
}

/** Every known pool of a type and region with the price `clientId` sees, and on-demand. */
export async function poolsWithPrices(
  db: Database,
  clientId: string,
  instanceType: string,
  region: string,
  now: number,
): Promise<{ pools: PoolPrice[]; onDemand: number | null }> {
  const known = await db
    .select({ id: pools.id, az: pools.az, instanceType: pools.instanceType })
    .from(pools)
    .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
    .orderBy(pools.az)
  const odKey = onDemandSeries(instanceType, region)
  const seen = await pricesNow(db, clientId, [odKey, ...known.map((p) => p.id)], now)
  return {
    pools: known.map((p) => ({
      ...p,
      price: seen.get(p.id)?.price ?? null,
      observedAt: seen.get(p.id)?.changedAt ?? null,
    })),
    onDemand: seen.get(odKey)?.price ?? null,
  }
}

/** Where an instance runs, for its prices. */
export interface PricedPlace {
  clientId: string
  poolId: string | null
  instanceType: string | null
  region: string | null
}

/** The spot price of each instance's pool and its on-demand price, as its own client sees them. */
export async function pricesOfInstances(
  db: Database,
  places: readonly PricedPlace[],
  now: number,
): Promise<{ spot: number | null; onDemand: number | null }[]> {
  const odKey = (p: PricedPlace) =>
    p.instanceType && p.region ? onDemandSeries(p.instanceType, p.region) : null
  const byClient = new Map<string, Set<string>>()
  for (const p of places) {
    const keys = byClient.get(p.clientId) ?? new Set<string>()
    for (const key of [p.poolId, odKey(p)]) if (key) keys.add(key)
    byClient.set(p.clientId, keys)
  }
  const seen = new Map(
    await Promise.all(
      [...byClient].map(
        async ([clientId, keys]) => [clientId, await pricesNow(db, clientId, [...keys], now)] as const,
      ),
    ),
  )
  return places.map((p) => {
    const mine = seen.get(p.clientId)
    const od = odKey(p)
    return {
      spot: p.poolId ? (mine?.get(p.poolId)?.price ?? null) : null,
      onDemand: od ? (mine?.get(od)?.price ?? null) : null,
    }
  })
}

/** Savings of a price against on-demand, in percent (null when either is unknown). */
export function savingsPercent(price: number | null, onDemand: number | null): number | null {
  if (price === null || onDemand === null || onDemand <= 0) return null
  return Math.round(((onDemand - price) / onDemand) * 1000) / 10
}
