/**
 * Price history retention, the hourly cron's `price-retention` job (product.md: full resolution 30
 * days, an hourly rollup a year). Each run rolls up the complete hours since its cursor into
 * `spot_prices_hourly` (per pool, reporter and hour: min, time-weighted average, max, last; an
 * INSERT ... SELECT per few hours, no bound list), then deletes raw rows past 30 days that are rolled
 * up and rollup rows past a year. Bounded per run (prices/retention.ts); an hour rolled twice is
 * written the same again, so a run that failed part way is simply carried on by the next.
 * Writes: `spot_prices_hourly`, `rollup_cursors` (and `spot_prices` through flows/prices.ts).
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { pools, rollupCursors, spotPrices, spotPricesHourly } from '../db/schema'
import { rolledUntil, SPOT_ROLLUP } from '../db/queries/hourly-prices'
import {
  CARRY_CAP_MS,
  HOUR_MS,
  HOURLY_RETENTION_MS,
  MAX_DELETES_PER_RUN,
  HOURS_PER_STATEMENT,
  MAX_HOURS_PER_RUN,
  MAX_ROLLUP_ROWS_PER_RUN,
  hourOf,
  hoursToRoll,
  rawCutoff,
} from '../prices/retention'
import { deleteExpiredSpotPrices } from './prices'

export interface RetentionRun {
  /** Hours rolled up by this run. */
  hours: number
  rollupRows: number
  /** Every hour before this is rolled up (epoch ms); null while there is no history at all. */
  rolledUntil: number | null
  rawDeleted: number
  hourlyDeleted: number
}

/** What one run may do at most (prices/retention.ts; tests lower or raise them). */
export interface RetentionLimits {
  hours: number
  hoursPerStatement: number
  rollupRows: number
  deletes: number
}

const LIMITS: RetentionLimits = {
  hours: MAX_HOURS_PER_RUN,
  hoursPerStatement: HOURS_PER_STATEMENT,
  rollupRows: MAX_ROLLUP_ROWS_PER_RUN,
  deletes: MAX_DELETES_PER_RUN,
}

/** One run at server time `now`. */
export async function retainPriceHistory(
  db: Database,
  now: number,
  limits: RetentionLimits = LIMITS,
): Promise<RetentionRun> {
  const start = (await rolledUntil(db)) ?? (await firstHour(db, now))
  if (start === null) return { hours: 0, rollupRows: 0, rolledUntil: null, rawDeleted: 0, hourlyDeleted: 0 }
  let cursor = start
  let rollupRows = 0
  const range = hoursToRoll(start, now, limits.hours)
  if (range) {
    // The row cap is checked between statements: a run writes at most one statement's rows beyond it.
    while (cursor < range.to && rollupRows < limits.rollupRows) {
      const to = Math.min(cursor + limits.hoursPerStatement * HOUR_MS, range.to)
      rollupRows += (await rollUpHours(db, cursor, to)).meta.changes
      cursor = to
    }
    await saveCursor(db, cursor, now)
  }
  const rawDeleted = (await deleteExpiredSpotPrices(db, rawCutoff(now, cursor), CARRY_CAP_MS, limits.deletes))
    .meta.changes
  const hourlyDeleted = (await deleteExpiredHours(db, now - HOURLY_RETENTION_MS, limits.deletes)).meta.changes
  return { hours: (cursor - start) / HOUR_MS, rollupRows, rolledUntil: cursor, rawDeleted, hourlyDeleted }
}

/**
 * Where a first run starts: the hour of the oldest stored point, or a year back when that is older
 * (such an hour's rollup would be deleted at once); null without any history.
 */
async function firstHour(db: Database, now: number): Promise<number | null> {
  const [row] = await db.all<{ at: number | null }>(sql`
    select min(observed_at) as at from ${spotPrices} where pool_id in (select id from ${pools})`)
  return row?.at == null ? null : hourOf(Math.max(row.at, now - HOURLY_RETENTION_MS))
}

function saveCursor(db: Database, until: number, now: number) {
  return db
    .insert(rollupCursors)
    .values({ name: SPOT_ROLLUP, until, updatedAt: now })
    .onConflictDoUpdate({ target: rollupCursors.name, set: { until, updatedAt: now } })
}

/**
 * The rollup rows of the hours in [from, to): for each pool, reporter and hour in which that reporter's
 * price changed, over the hour's change points and the price in force at its start (the reporter's
 * previous point, within the carry cap), each held until the next point or the hour's end. The
 * reporter's last point before `from` is read only to know the price in force then.
 */
function rollUpHours(db: Database, from: number, to: number) {
  // Literals: a bound number is a REAL in D1, and the hour of a time needs integer division.
  const hour = sql.raw(String(HOUR_MS))
  const cap = sql.raw(String(CARRY_CAP_MS))
  return db.run(sql`
    with points as (
      select s.id, s.pool_id, coalesce(s.reported_by_client_id, '') as reporter, s.shared, s.price,
        s.observed_at as at, 1 as is_change
      from ${spotPrices} s
      where s.pool_id in (select id from ${pools}) and s.observed_at >= ${from} and s.observed_at < ${to}
      union all
      select s.id, s.pool_id, coalesce(s.reported_by_client_id, ''), s.shared, s.price, s.observed_at, 0
      from ${spotPrices} s where s.id in (
        select (select s2.id from ${spotPrices} s2
                where s2.pool_id = c.pool_id and s2.reported_by_client_id is c.client
                  and s2.observed_at < ${from} and s2.observed_at >= ${from - CARRY_CAP_MS}
                order by s2.observed_at desc, s2.id desc limit 1)
        from (select distinct pool_id, reported_by_client_id as client from ${spotPrices}
              where pool_id in (select id from ${pools})
                and observed_at >= ${from} and observed_at < ${to}) c)
    ),
    steps as (
      select pool_id, reporter, shared, price, at, is_change, (at / ${hour}) * ${hour} as hour,
        lag(price) over p as prev_price, lag(shared) over p as prev_shared, lag(at) over p as prev_at,
        lead(at) over p as next_at,
        row_number() over (partition by pool_id, reporter, at / ${hour} order by at, id) as in_hour,
        row_number() over (partition by pool_id, reporter, at / ${hour} order by at desc, id desc) as from_end
      from points
      window p as (partition by pool_id, reporter order by at, id)
    )
    insert into ${spotPricesHourly}
      (pool_id, hour_at, reporter, shared, min_price, max_price, avg_price, last_price)
    select pool_id, hour, reporter, min(shared),
      min(case when held > 0 then price end), max(case when held > 0 then price end),
      total(price * held) / total(held), max(case when from_end = 1 then price end)
    from (
      select pool_id, reporter, hour, shared, price, from_end,
        min(coalesce(next_at, hour + ${hour}), hour + ${hour}) - at as held
      from steps where is_change = 1
      union all
      select pool_id, reporter, hour, prev_shared, prev_price, 0, at - hour
      from steps where is_change = 1 and in_hour = 1 and prev_at >= hour - ${cap}
    )
    where true
    group by pool_id, reporter, hour
    on conflict (pool_id, hour_at, reporter) do update set
      shared = excluded.shared, min_price = excluded.min_price, max_price = excluded.max_price,
      avg_price = excluded.avg_price, last_price = excluded.last_price`)
}

/**
 * Deletes at most `limit` rollup rows of hours before `cutoff`, except each reporter's last one before
 * it while it may still give the price (as deleteExpiredSpotPrices keeps the raw one).
 */
function deleteExpiredHours(db: Database, cutoff: number, limit: number) {
  const at = Math.trunc(cutoff)
  return db.delete(spotPricesHourly).where(sql`rowid in (
    select h.rowid from ${spotPricesHourly} h
    where h.pool_id in (select id from ${pools}) and h.hour_at < ${at}
      and (h.hour_at < ${at - CARRY_CAP_MS} or exists (
        select 1 from ${spotPricesHourly} n
        where n.pool_id = h.pool_id and n.reporter = h.reporter
          and n.hour_at > h.hour_at and n.hour_at < ${at}))
    limit ${sql.raw(String(Math.trunc(limit)))})`)
}
