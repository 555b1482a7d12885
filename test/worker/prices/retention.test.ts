/**
 * Price history retention (flows/price-retention.ts, the hourly cron's `price-retention`): full
 * resolution kept 30 days, an hourly rollup a year, bounded runs that carry on where the last stopped,
 * and the 90-day chart read from the rollup as the client sees it (never another tenant's prices).
 */
import { env } from 'cloudflare:test'
import { and, eq, lt } from 'drizzle-orm'
import { beforeEach, describe, expect, it } from 'vitest'
import { cronRuns, ondemandPrices, spotPrices, spotPricesHourly } from '../../../src/db/schema'
import { CRON_HOURLY } from '../../../src/cron'
import { retainPriceHistory } from '../../../src/flows/price-retention'
import { HOUR_MS, hourOf, RAW_RETENTION_MS } from '../../../src/prices/retention'
import { runScheduled } from '../../../src/scheduled'
import { db, get, seedClient, seedSpotInstance, seedUser } from '../web/seed'

const DAY = 24 * HOUR_MS
const UNBOUNDED = { hours: 100_000, hoursPerStatement: 100_000, rollupRows: 10_000_000, deletes: 10_000_000 }
/** Another tenant's unshared price of the same pool: never in the first client's chart or rollup view. */
const FOREIGN_PRICE = 0.5

/** Client's prices cycle through these, one change every 6 hours at half past the hour. */
const PRICES = [0.011, 0.012, 0.013, 0.014]

beforeEach(async () => {
  for (const table of ['rollup_cursors', 'spot_prices_hourly', 'spot_prices'])
    await env.DB.prepare(`delete from ${table}`).run()
})

/** A client's instance in its own pool with `days` of that client's price history, and a foreign tenant's. */
async function instanceWithHistory(days: number, now: number) {
  const client = await seedClient()
  const other = await seedClient()
  const start = hourOf(now - days * DAY)
  const { instanceId, region, type, poolId } = await seedSpotInstance(client.id, start, now)
  await db().insert(ondemandPrices).values({ instanceType: type, region, price: 0.0416, observedAt: start })
  const points = []
  for (let at = start + 30 * 60_000, k = 0; at < now - 4 * HOUR_MS; at += 6 * HOUR_MS, k++)
    points.push({ at, price: PRICES[k % PRICES.length]! })
  // Five parameters a row: D1 binds at most 100 per statement.
  for (let i = 0; i < points.length; i += 20) {
    await db()
      .insert(spotPrices)
      .values(
        points.slice(i, i + 20).map((p) => ({
          poolId,
          price: p.price,
          observedAt: p.at,
          reportedByClientId: client.id,
          shared: false,
        })),
      )
  }
  await db()
    .insert(spotPrices)
    .values({ poolId, price: FOREIGN_PRICE, observedAt: start + 3 * HOUR_MS, reportedByClientId: other.id })
  return { client, other, poolId, instanceId, start, points }
}

const hourlyRows = (poolId: string) =>
  db()
    .select()
    .from(spotPricesHourly)
    .where(eq(spotPricesHourly.poolId, poolId))
    .orderBy(spotPricesHourly.hourAt)

const rawRows = (poolId: string) => db().select().from(spotPrices).where(eq(spotPrices.poolId, poolId))

describe('price history retention', () => {
  it('rolls each hour up per reporter (min, time-weighted average, max, last), keeps 30 days of full resolution and the price in force', async () => {
    const now = Date.now()
    const { client, other, poolId, start, points } = await instanceWithHistory(40, now)
    const run = await retainPriceHistory(db(), now, UNBOUNDED)
    expect(run.rolledUntil).toBe(hourOf(now - 2 * HOUR_MS - 5 * 60_000))

    const rows = await hourlyRows(poolId)
    const mine = rows.filter((r) => r.reporter === client.id)
    expect(mine).toHaveLength(points.length)
    // The first hour: only its own point, held for its second half.
    expect(mine[0]).toMatchObject({ hourAt: start, minPrice: 0.011, maxPrice: 0.011, lastPrice: 0.011 })
    expect(mine[0]!.avgPrice).toBeCloseTo(0.011, 9)
    // Later hours: the price in force for 30 minutes, then the new one for 30.
    expect(mine[1]).toMatchObject({
      hourAt: start + 6 * HOUR_MS,
      minPrice: 0.011,
      maxPrice: 0.012,
      lastPrice: 0.012,
    })
    expect(mine[1]!.avgPrice).toBeCloseTo(0.0115, 9)
    expect(mine.every((r) => !r.shared)).toBe(true)
    expect(rows.filter((r) => r.reporter === other.id)).toMatchObject([
      { hourAt: start + 3 * HOUR_MS, lastPrice: FOREIGN_PRICE },
    ])

    const cutoff = now - RAW_RETENTION_MS
    const raw = await rawRows(poolId)
    const old = raw.filter((r) => r.observedAt < cutoff)
    // Each reporter's last row before the cutoff stays only while it can still give the price (7 days).
    const lastBefore = points.filter((p) => p.at < cutoff).at(-1)!
    expect(old.map((r) => r.observedAt)).toEqual([lastBefore.at])
    expect(raw.filter((r) => r.observedAt >= cutoff)).toHaveLength(
      points.filter((p) => p.at >= cutoff).length,
    )
    expect(run.rawDeleted).toBe(points.length + 1 - raw.length)

    // A second run finds nothing to do.
    expect(await retainPriceHistory(db(), now, UNBOUNDED)).toMatchObject({
      hours: 0,
      rollupRows: 0,
      rawDeleted: 0,
      hourlyDeleted: 0,
    })
  })

  it('rolls up at most a day of hours per run, carries on from its cursor, and writes a re-rolled hour the same', async () => {
    const now = Date.now()
    const { client, poolId, start } = await instanceWithHistory(10, now)
    const first = await retainPriceHistory(db(), now)
    expect(first).toMatchObject({ hours: 24, rolledUntil: start + 24 * HOUR_MS })
    expect(await hourlyRows(poolId)).toHaveLength(4 + 1) // 4 changes of the client, 1 of the other tenant
    // Nothing is deleted before it is rolled up (and nothing here is 30 days old).
    expect(first.rawDeleted).toBe(0)

    const second = await retainPriceHistory(db(), now)
    expect(second).toMatchObject({ hours: 24, rolledUntil: start + 48 * HOUR_MS })
    const before = await hourlyRows(poolId)
    expect(before.filter((r) => r.reporter === client.id)).toHaveLength(8)

    // A run that stopped before saving its cursor: the next one rolls the same hours again, to the same rows.
    await env.DB.prepare('update rollup_cursors set until = ?')
      .bind(start + 30 * HOUR_MS)
      .run()
    const again = await retainPriceHistory(db(), now)
    expect(again.rolledUntil).toBe(start + 54 * HOUR_MS)
    const after = await hourlyRows(poolId)
    expect(after.filter((r) => r.hourAt < start + 48 * HOUR_MS)).toEqual(before)
  })

  it('deletes rollup rows past a year, keeping the one still in force at the cutoff', async () => {
    const now = Date.now()
    const { client, poolId } = await instanceWithHistory(1, now)
    const yearAgo = now - 365 * DAY
    const row = (hourAt: number, price: number) => ({
      poolId,
      hourAt: hourOf(hourAt),
      reporter: client.id,
      minPrice: price,
      maxPrice: price,
      avgPrice: price,
      lastPrice: price,
    })
    await db()
      .insert(spotPricesHourly)
      .values([row(yearAgo - 20 * DAY, 0.02), row(yearAgo - 2 * DAY, 0.021), row(yearAgo - DAY, 0.022)])
    const run = await retainPriceHistory(db(), now, UNBOUNDED)
    expect(run.hourlyDeleted).toBe(2)
    const old = await db()
      .select()
      .from(spotPricesHourly)
      .where(and(eq(spotPricesHourly.poolId, poolId), lt(spotPricesHourly.hourAt, yearAgo)))
    expect(old.map((r) => r.lastPrice)).toEqual([0.022])
  })

  it('runs in the hourly cron and serves the 90-day chart from the rollup, as the client sees it', async () => {
    const now = Date.now()
    const { client, poolId, instanceId, points } = await instanceWithHistory(60, now)
    await retainPriceHistory(db(), now, UNBOUNDED)
    await runScheduled(CRON_HOURLY, env, now)
    const [cron] = await db().select().from(cronRuns).where(eq(cronRuns.job, 'price-retention'))
    expect(cron).toMatchObject({ ok: true })
    // Older than 30 days, only the row in force at the cutoff is left at full resolution.
    expect((await rawRows(poolId)).filter((r) => r.observedAt < now - RAW_RETENTION_MS)).toHaveLength(1)

    const owner = await seedUser(client.id, 'owner')
    const res = await get(`/api/client/instances/${instanceId}/price-history?range=90d`, owner.headers)
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      series: { from: number; pools: { id: string; points: { t: number; price: number }[] }[] }
    }
    const [pool, ...more] = body.series.pools
    expect(more).toEqual([])
    expect(pool!.id).toBe(poolId)
    const old = pool!.points.filter((p) => p.t < now - 31 * DAY)
    // 60 days back: the rollup's hours, a point per 12-hour bucket at least, all of them this client's.
    expect(old.length).toBeGreaterThanOrEqual(55)
    expect(old[0]!.t).toBeLessThan(points[0]!.at + 12 * HOUR_MS)
    // Each hour's average of the old and the new price, or a price itself.
    const allowed = [...PRICES, 0.0115, 0.0125, 0.0135]
    for (const p of pool!.points) {
      expect(p.price).not.toBe(FOREIGN_PRICE)
      expect(allowed.some((a) => Math.abs(a - p.price) < 1e-9)).toBe(true)
    }
    // The 30-day chart is still the full-resolution one: every change point of the window.
    const month = await get(`/api/client/instances/${instanceId}/price-history?range=30d`, owner.headers)
    expect(month.status).toBe(200)

    const page = await get(`/c/${client.id}/instances/${instanceId}?range=1y`, owner.headers)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('id="price-chart"')
  })

  it('answers an unknown range with 400', async () => {
    const now = Date.now()
    const { client, instanceId } = await instanceWithHistory(1, now)
    const owner = await seedUser(client.id, 'owner')
    for (const query of ['range=2y', 'days=90']) {
      const res = await get(`/api/client/instances/${instanceId}/price-history?${query}`, owner.headers)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' })
    }
  })
})
