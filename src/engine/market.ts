/**
 * What the engine knows of the market of one instance type and region, read from D1: every pool's
 * latest price and freshness, 24 h of price history, and 30 days of the fleet's interruption signals.
 */
import { and, asc, desc, eq, gte, inArray, like } from 'drizzle-orm'
import type { Database } from '../db/client'
import { events, ondemandPrices, pools, replicas, spotPrices } from '../db/schema'
import type { PricePoint } from '../ledger/series'
import { rebalancesFollowed, trend, volatility } from './stats'
import type { PoolQuote } from './types'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface Market {
  instanceType: string
  region: string
  onDemandPrice: number | null
  pools: PoolQuote[]
}

/** The market at server time `now`. Pools never priced are left out. */
export async function loadMarket(
  db: Database,
  instanceType: string,
  region: string,
  now: number,
): Promise<Market> {
  const poolRows = (
    await db
      .select()
      .from(pools)
      .where(and(eq(pools.instanceType, instanceType), eq(pools.region, region)))
  ).filter((p) => p.lastPrice !== null)
  const [ondemand] = await db
    .select({ price: ondemandPrices.price })
    .from(ondemandPrices)
    .where(and(eq(ondemandPrices.instanceType, instanceType), eq(ondemandPrices.region, region)))
    .orderBy(desc(ondemandPrices.observedAt))
    .limit(1)
  const ids = poolRows.map((p) => p.id).slice(0, 90) // D1: at most 100 bound parameters
  const [history, signals, failures] =
    ids.length === 0
      ? [[], [], []]
      : await Promise.all([
          db
            .select({ poolId: spotPrices.poolId, price: spotPrices.price, at: spotPrices.observedAt })
            .from(spotPrices)
            .where(and(inArray(spotPrices.poolId, ids), gte(spotPrices.observedAt, now - 2 * DAY)))
            .orderBy(asc(spotPrices.observedAt)),
          db
            .select({
              poolId: events.poolId,
              kind: events.kind,
              at: events.receivedAt,
              instanceId: events.instanceId,
            })
            .from(events)
            .where(and(inArray(events.poolId, ids), gte(events.receivedAt, now - 30 * DAY))),
          db
            .select({ poolId: replicas.poolId, at: replicas.updatedAt })
            .from(replicas)
            .where(
              and(
                inArray(replicas.poolId, ids),
                eq(replicas.status, 'failed'),
                like(replicas.errorMessage, '%apacity%'),
                gte(replicas.updatedAt, now - HOUR),
              ),
            ),
        ])
  const quotes = poolRows.map((pool): PoolQuote => {
    const points: PricePoint[] = history.filter((h) => h.poolId === pool.id)
    // The pool row mirrors the newest change point: it also covers a history older than 2 days.
    if (points.length === 0 && pool.priceChangedAt !== null)
      points.push({ at: pool.priceChangedAt, price: pool.lastPrice! })
    const mine = signals.filter((s) => s.poolId === pool.id)
    const notices = mine.filter((s) => s.kind === 'termination_notice')
    const capacity = failures.filter((f) => f.poolId === pool.id)
    return {
      poolId: pool.id,
      az: pool.az,
      price: pool.lastPrice!,
      seenAt: pool.lastReportedAt ?? pool.priceChangedAt ?? 0,
      volatility24h: volatility(points, now - DAY, now),
      trend1h: trend(points, now, HOUR),
      interruptions30d: notices.length,
      rebalances30d: mine.filter((s) => s.kind === 'rebalance').length,
      rebalancesFollowed30d: rebalancesFollowed(
        mine.flatMap((s) =>
          s.kind === 'rebalance' || s.kind === 'termination_notice'
            ? [
                {
                  kind: s.kind === 'rebalance' ? ('rebalance' as const) : ('notice' as const),
                  at: s.at,
                  key: s.instanceId,
                },
              ]
            : [],
        ),
      ),
      lastInterruptionAt: notices.reduce<number | null>((m, s) => Math.max(m ?? 0, s.at), null),
      lastCapacityErrorAt: capacity.reduce<number | null>((m, f) => Math.max(m ?? 0, f.at), null),
    }
  })
  return { instanceType, region, onDemandPrice: ondemand?.price ?? null, pools: quotes }
}
