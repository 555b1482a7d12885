/**
 * What the engine knows of the market of one instance type and region, for one client, read from D1:
 * every pool's price and freshness as that client sees it (db/queries/quotes.ts), 24 h of price
 * history, 30 days of interruption signals and how long spot instances lived in each pool, other
 * tenants' evidence weighed by distinct clients (engine/weigh-signals.ts) and only when it may feed
 * them: a signal by its events.shared, a capacity error when its agent is verified (a verified agent's
 * routes take only its agent tokens), a lifetime when its instance proved itself (an agent_tokens row);
 * capacity evidence (placement scores, capacity errors on launch) from db/queries/capacity.ts.
 */
import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { agentTokens, events, instances, pools } from '../schema'
import type { PricePoint } from '../../ledger/series'
import { onDemandSeries, pricesNow, spotSeriesFor } from './quotes'
import { meanPrice, trend, volatility } from '../../engine/stats'
import { weighLifetimes, weighSignals, type ClientLifetimes } from '../../engine/weigh-signals'
import { loadPoolCapacity, type PoolCapacity } from './capacity'
import type { Market, PoolQuote } from '../../engine/types'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The mean price of each of the 24 hours before `now`, oldest first (null: no price that hour). */
const hourlyMeans = (points: readonly PricePoint[], now: number) =>
  Array.from({ length: 24 }, (_, k) => meanPrice(points, now - (24 - k) * HOUR, now - (23 - k) * HOUR))

/** Hours lived by one client's spot instances in one pool within a window (see PoolQuote). */
export interface PoolLifetimes extends ClientLifetimes {
  poolId: string
}

/**
 * Per pool, client and sharing, one grouped query: each spot instance's life clipped to [from, now]. A
 * life ends at the instance's first interruption notice (interrupted) or at its termination, or is
 * still running (both censored: the instance outlived what we saw). Instances are tied to their
 * notices by agent and instance id (the notice's own pool may be missing), through the
 * events_agent_received index. `shared`: the instance registered with a signed identity document
 * (agent_tokens), so its lives may feed other tenants; an instance a client token claims drives only
 * its own client.
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
    clientId: string
    shared: number
    interruptedMs: number
    censoredMs: number
    interrupted: number
  }>(sql`
    select pool_id as poolId, client_id as clientId, shared,
      total(case when notice_at is null then 0 else died - born end) as interruptedMs,
      total(case when notice_at is null then died - born else 0 end) as censoredMs,
      count(notice_at) as interrupted
    from (
      select pool_id, client_id, shared, notice_at, max(created_at, ${start}) as born,
        min(coalesce(terminated_at, ${end}), coalesce(notice_at, ${end}), ${end}) as died
      from (
        select i.pool_id, i.client_id, i.created_at, i.terminated_at,
          exists (select 1 from ${agentTokens} t
            where t.agent_id = i.agent_id and t.instance_id = i.instance_id) as shared,
          (select min(e.received_at) from ${events} e
            where e.agent_id = i.agent_id and e.instance_id = i.instance_id
              and e.kind = 'termination_notice' and e.received_at <= ${end}) as notice_at
        from ${instances} i
        where i.mode = 'spot' and i.pool_id in ${poolIds} and i.created_at < ${end}
          and (i.terminated_at is null or i.terminated_at > ${start})
      )
    )
    where died > born
    group by pool_id, client_id, shared`)
  return rows.map((r) => ({
    poolId: r.poolId,
    clientId: r.clientId,
    shared: r.shared === 1,
    interruptedHours: r.interruptedMs / HOUR,
    censoredHours: r.censoredMs / HOUR,
    interrupted: r.interrupted,
  }))
}

/**
 * The market `clientId` sees at server time `now` of `instanceType` (the agent's own) and of
 * `otherTypes` (those its workload may run on, engine/workload.ts). Pools without a price it sees are
 * left out, and so are pools of another type whose on-demand price it does not see (their risk and
 * the ledger need it). With other types, every quote names its type and that type's on-demand price.
 */
export async function loadMarket(
  db: Database,
  clientId: string,
  instanceType: string,
  region: string,
  now: number,
  otherTypes: readonly string[] = [],
): Promise<Market> {
  const types = [instanceType, ...otherTypes.filter((t) => t !== instanceType)]
  const known = await db
    .select({ id: pools.id, az: pools.az, instanceType: pools.instanceType })
    .from(pools)
    .where(and(inArray(pools.instanceType, types), eq(pools.region, region)))
  const odKeys = new Map(types.map((t) => [t, onDemandSeries(t, region)]))
  const odKey = odKeys.get(instanceType)!
  const seen = await pricesNow(db, clientId, [...odKeys.values(), ...known.map((p) => p.id)], now)
  const odOf = (type: string) => seen.get(odKeys.get(type)!)?.price
  const poolRows = known
    .filter((p) => seen.has(p.id) && (p.instanceType === instanceType || odOf(p.instanceType) !== undefined))
    // the own type's pools first, then by type as asked
    .sort((a, b) => types.indexOf(a.instanceType) - types.indexOf(b.instanceType))
    .slice(0, 90) // D1: at most 100 bound parameters
  const typed = types.length > 1
  const ids = poolRows.map((p) => p.id)
  const [history, signals, capacity, lifetimes] =
    ids.length === 0
      ? [new Map<string, PricePoint[]>(), [], new Map<string, PoolCapacity>(), []]
      : await Promise.all([
          spotSeriesFor(db, clientId, ids, now - 2 * DAY, now),
          db
            .select({
              poolId: events.poolId,
              clientId: events.clientId,
              kind: events.kind,
              at: events.receivedAt,
              instanceId: events.instanceId,
              shared: events.shared,
            })
            .from(events)
            .where(
              and(
                inArray(events.poolId, ids),
                inArray(events.kind, ['termination_notice', 'rebalance']),
                gte(events.receivedAt, now - 30 * DAY),
              ),
            ),
          loadPoolCapacity(db, clientId, ids, now),
          loadLifetimes(db, ids, now - 30 * DAY, now),
        ])
  const quotes = poolRows.map((pool): PoolQuote => {
    const price = seen.get(pool.id)!
    const points = [...(history.get(pool.id) ?? [])]
    // A price steady for longer than the window has its last change point before it.
    if (points.length === 0) points.push({ at: price.changedAt, price: price.price })
    const weighed = weighSignals(
      signals
        .filter((s) => s.poolId === pool.id)
        .map((s) => ({
          clientId: s.clientId,
          kind: s.kind === 'rebalance' ? ('rebalance' as const) : ('notice' as const),
          at: s.at,
          key: s.instanceId,
          shared: s.shared,
        })),
      clientId,
    )
    const lived = weighLifetimes(
      lifetimes.filter((l) => l.poolId === pool.id),
      clientId,
    )
    return {
      poolId: pool.id,
      az: pool.az,
      ...(typed && { instanceType: pool.instanceType, onDemandPrice: odOf(pool.instanceType) }),
      price: price.price,
      seenAt: price.reportedAt,
      volatility24h: volatility(points, now - DAY, now),
      mean24h: meanPrice(points, now - DAY, now) ?? price.price,
      hourly24h: hourlyMeans(points, now),
      trend1h: trend(points, now, HOUR),
      ...weighed,
      livedHoursInterrupted30d: lived.interruptedHours,
      livedHoursCensored30d: lived.censoredHours,
      livesInterrupted30d: lived.interrupted,
      lastCapacityErrorAt: null,
      ...capacity.get(pool.id),
    }
  })
  return { instanceType, region, onDemandPrice: seen.get(odKey)?.price ?? null, pools: quotes }
}
