/**
 * What the engine knows of the market of one instance type and region, read from D1: every pool's
 * latest price and freshness, 24 h of price history, 30 days of the fleet's interruption signals and
 * how long the fleet's spot instances lived in each pool.
 */
import { and, asc, eq, gte, inArray, like, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { events, instances, pools, replicas, spotPrices } from '../schema'
import type { PricePoint } from '../../ledger/series'
import { latestOnDemandQuery } from './on-demand'
import { rebalancesFollowed, trend, volatility } from '../../engine/stats'
import type { Market, PoolQuote } from '../../engine/types'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Hours lived by the fleet's spot instances in one pool within a window (see PoolQuote). */
export interface PoolLifetimes {
  poolId: string
  interruptedHours: number
  censoredHours: number
  interrupted: number
}

/**
 * Per pool, one grouped query: each spot instance's life clipped to [from, now]. A life ends at the
 * instance's first interruption notice (interrupted) or at its termination, or is still running
 * (both censored: the instance outlived what we saw). Instances are tied to their notices by agent
 * and instance id (the notice's own pool may be missing), through the events_agent_received index.
 */
export async function loadLifetimes(
  db: Database,
  poolIds: readonly string[],
  from: number,
  now: number,
): Promise<PoolLifetimes[]> {
  if (poolIds.length === 0) return []
  // Times as literals: D1 binds at most 100 parameters and the pool ids take up to 90 of them.
  const [start, end] = [from, now].map((t) => sql.raw(String(Math.trunc(t))))
  const rows = await db.all<{
    poolId: string
    interruptedMs: number
    censoredMs: number
    interrupted: number
  }>(sql`
    select pool_id as poolId,
      total(case when notice_at is null then 0 else died - born end) as interruptedMs,
      total(case when notice_at is null then died - born else 0 end) as censoredMs,
      count(notice_at) as interrupted
    from (
      select pool_id, notice_at, max(created_at, ${start}) as born,
        min(coalesce(terminated_at, ${end}), coalesce(notice_at, ${end}), ${end}) as died
      from (
        select i.pool_id, i.created_at, i.terminated_at,
          (select min(e.received_at) from ${events} e
            where e.agent_id = i.agent_id and e.instance_id = i.instance_id
              and e.kind = 'termination_notice' and e.received_at <= ${end}) as notice_at
        from ${instances} i
        where i.mode = 'spot' and i.pool_id in ${poolIds} and i.created_at < ${end}
          and (i.terminated_at is null or i.terminated_at > ${start})
      )
    )
    where died > born
    group by pool_id`)
  return rows.map((r) => ({
    poolId: r.poolId,
    interruptedHours: r.interruptedMs / HOUR,
    censoredHours: r.censoredMs / HOUR,
    interrupted: r.interrupted,
  }))
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
  const [ondemand] = await latestOnDemandQuery(db, instanceType, region)
  const ids = poolRows.map((p) => p.id).slice(0, 90) // D1: at most 100 bound parameters
  const [history, signals, failures, lifetimes] =
    ids.length === 0
      ? [[], [], [], []]
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
          loadLifetimes(db, ids, now - 30 * DAY, now),
        ])
  const quotes = poolRows.map((pool): PoolQuote => {
    const points: PricePoint[] = history.filter((h) => h.poolId === pool.id)
    // The pool row mirrors the newest change point: it also covers a history older than 2 days.
    if (points.length === 0 && pool.priceChangedAt !== null)
      points.push({ at: pool.priceChangedAt, price: pool.lastPrice! })
    const mine = signals.filter((s) => s.poolId === pool.id)
    const notices = mine.filter((s) => s.kind === 'termination_notice')
    const capacity = failures.filter((f) => f.poolId === pool.id)
    const lived = lifetimes.find((l) => l.poolId === pool.id)
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
      livedHoursInterrupted30d: lived?.interruptedHours ?? 0,
      livedHoursCensored30d: lived?.censoredHours ?? 0,
      livesInterrupted30d: lived?.interrupted ?? 0,
      lastInterruptionAt: notices.reduce<number | null>((m, s) => Math.max(m ?? 0, s.at), null),
      lastCapacityErrorAt: capacity.reduce<number | null>((m, f) => Math.max(m ?? 0, f.at), null),
    }
  })
  return { instanceType, region, onDemandPrice: ondemand?.price ?? null, pools: quotes }
}
